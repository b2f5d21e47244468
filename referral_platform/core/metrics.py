"""A tiny registry of gauges collected at scrape time. Apps add collectors in `metrics.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

# A collector yields (name, help, labels dict, value).
Collector = Callable[[], Iterable[tuple[str, str, dict, float]]]
_COLLECTORS: list[Collector] = []


def register_collector(func: Collector) -> Collector:
    _COLLECTORS.append(func)
    return func


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).replace(chr(34), "")}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def render_metrics() -> str:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("metrics")
    lines: list[str] = []
    seen: set[str] = set()
    for collector in _COLLECTORS:
        for name, help_text, labels, value in collector():
            if name not in seen:
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} gauge")
                seen.add(name)
            lines.append(f"{name}{_labels(labels)} {value}")
    lines.append("")
    return "\n".join(lines)


@register_collector
def _up():
    yield "referral_platform_up", "The web process answers.", {}, 1
