"""What changed between two versions of a spec, path by path (the version history's diff).
Money reads as people type it, in the program currency's main unit (¥50.00, not 5000)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from referral_platform.core.money import format_minor

from .units import is_money

_MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    old: object
    new: object
    currency: str = ""
    money: bool = False

    @property
    def kind(self) -> str:
        if self.old is _MISSING:
            return "added"
        if self.new is _MISSING:
            return "removed"
        return "changed"

    @property
    def old_text(self) -> str:
        return "" if self.old is _MISSING else self._text(self.old)

    @property
    def new_text(self) -> str:
        return "" if self.new is _MISSING else self._text(self.new)

    def _text(self, value) -> str:
        shown = _shown(value, self.currency, self.money)
        return shown if isinstance(shown, str) and shown is not value else _json(shown)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _shown(value, currency: str, money: bool):
    """`value` with its money numbers as formatted amounts (a whole added reward included)."""
    if money and isinstance(value, int) and not isinstance(value, bool) and currency:
        return format_minor(value, currency, decimals=True)
    if isinstance(value, dict):
        return {k: _shown(v, currency, is_money(k, value)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v, currency, False) for v in value]
    return value


def spec_diff(old, new) -> list[Change]:
    either = new if isinstance(new, dict) else old if isinstance(old, dict) else {}
    return _diff(old, new, "", str(either.get("currency") or ""), False)


def _diff(old, new, path: str, currency: str, money: bool) -> list[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            child_money = is_money(key, new) or is_money(key, old)
            out.extend(
                _diff(old.get(key, _MISSING), new.get(key, _MISSING), sub, currency, child_money)
            )
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for index in range(max(len(old), len(new))):
            out.extend(
                _diff(
                    old[index] if index < len(old) else _MISSING,
                    new[index] if index < len(new) else _MISSING,
                    f"{path}[{index}]",
                    currency,
                    False,
                )
            )
        return out
    if old is _MISSING and new is _MISSING:
        return []
    return [] if old == new else [Change(path or "(root)", old, new, currency, money)]
