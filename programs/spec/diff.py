"""What changed between two versions of a spec, path by path (the version history's diff)."""

from __future__ import annotations

from dataclasses import dataclass

_MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    old: object
    new: object

    @property
    def kind(self) -> str:
        if self.old is _MISSING:
            return "added"
        if self.new is _MISSING:
            return "removed"
        return "changed"

    @property
    def old_text(self) -> str:
        return "" if self.old is _MISSING else _text(self.old)

    @property
    def new_text(self) -> str:
        return "" if self.new is _MISSING else _text(self.new)


def _text(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def spec_diff(old, new, path: str = "") -> list[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            out.extend(spec_diff(old.get(key, _MISSING), new.get(key, _MISSING), sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for index in range(max(len(old), len(new))):
            out.extend(
                spec_diff(
                    old[index] if index < len(old) else _MISSING,
                    new[index] if index < len(new) else _MISSING,
                    f"{path}[{index}]",
                )
            )
        return out
    if old is _MISSING and new is _MISSING:
        return []
    return [] if old == new else [Change(path or "(root)", old, new)]
