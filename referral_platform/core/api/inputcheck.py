"""What any JSON the API takes must satisfy before a serializer or the database sees it
(SEMANTICS §10 "Strings"): no string, value or key, holds NUL or a lone surrogate (neither
fits PostgreSQL's text or jsonb), every integer fits a bigint, every number is finite, and
nesting stays within `MAX_DEPTH`. `json_problems` answers with field paths in the shape of
`flatten_fields` ("properties.note", "events[3].type")."""

from __future__ import annotations

import math
import re

from django.utils.translation import gettext as _

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 32
MAX_PROBLEMS = 20


# A \u0000 or surrogate escape in a JSON text: what parses into a string PostgreSQL cannot
# store (raw NUL bytes and invalid UTF-8 never parse at all).
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def text_may_have_problems(body: bytes) -> bool:
    """False when the JSON text `body` can hold no bad string and no deep nesting (numbers
    are the parser's to flag, `parsers.JSONParser`): the walk is then skipped."""
    if body.count(b"{") + body.count(b"[") >= MAX_DEPTH:
        return True
    return b"\\u" in body and _BAD_ESCAPE.search(body) is not None


def number_may_have_problem(text: str) -> bool:
    """Whether a JSON number's text may parse beyond bigint or to an infinite float."""
    digits = len(text) - (text[0] == "-")
    return digits > 18 or "e" in text or "E" in text


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return _("Must not contain a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Must not contain a lone surrogate (not valid Unicode).")
    return None


def shown_key(key: str) -> str:
    # A key that cannot be stored cannot be echoed either: show it escaped.
    return key if text_problem(key) is None else key.encode("unicode_escape").decode("ascii")


def _child(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{shown_key(key)}" if prefix else shown_key(key)


def value_problem(value) -> str | None:
    """The problem of one scalar, or None."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
        return _("Must be an integer between %(min)s and %(max)s.") % {
            "min": BIGINT_MIN,
            "max": BIGINT_MAX,
        }
    if isinstance(value, float) and not math.isfinite(value):
        return _("Must be a finite number.")
    return None


def json_problems(
    value, *, prefix: str = "", max_depth: int = MAX_DEPTH, skip: frozenset = frozenset()
) -> dict[str, list[str]]:
    """Every problem in `value` (parsed JSON) by field path; empty when it may be stored.
    Top-level keys in `skip` are left out (a batch checks each of its items on its own)."""
    problems: dict[str, list[str]] = {}
    stack = [(prefix, value, 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= max_depth:
                problems.setdefault(path or "non_field_errors", []).append(
                    _("Nested more than %(depth)s levels deep.") % {"depth": max_depth}
                )
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                if depth == 0 and key in skip:
                    continue
                child_path = _child(path, key)
                if isinstance(key, str):
                    problem = text_problem(key)
                    if problem:
                        problems.setdefault(child_path, []).append(
                            _("Key: %(problem)s") % {"problem": problem}
                        )
                        continue
                children.append((child_path, child, depth + 1))
            stack.extend(reversed(children))
            continue
        problem = value_problem(item)
        if problem:
            problems.setdefault(path or "non_field_errors", []).append(problem)
    return problems
