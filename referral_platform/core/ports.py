"""Ports: what a lower app needs from an app above it in the layers (docs/architecture.md),
which it may not import — the figures a page shows, the task that processes what it stored.
The lower app declares the port; the app above fills it once at start-up (its
`AppConfig.ready`) with a plain function (or a task). Calling a port nobody filled raises — never a silent default — and
`manage.py check` reports it, so a missing provider fails at deploy, not on a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

_PORTS: list[Port] = []


class Port:
    def __init__(self, name: str) -> None:
        self.name = name
        self._func: Callable[..., Any] | None = None
        _PORTS.append(self)

    def install(self, func: Callable[..., Any]) -> None:
        self._func = func

    @property
    def installed(self) -> bool:
        return self._func is not None

    @property
    def provider(self) -> Any:
        """What was installed (a task to enqueue, say); raises when nothing was."""
        if self._func is None:
            raise ImproperlyConfigured(f"No installed app provides {self.name}.")
        return self._func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.provider(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Port {self.name}>"


@checks.register()
def ports_filled(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(f"No installed app provides {port.name}.", id="core.E001")
        for port in _PORTS
        if not port.installed
    ]
