"""Attribution as pure functions (SEMANTICS §3): touches and settings in, a decision out.

No database, no clock. The service in `services.py` gathers the touches (explicit code,
click id, cookie touches carried by invite-page leads, claims, phone/email matches) and
persists what `decide` answers, evidence included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

LINK, QR, CODE, CLAIM, IDENTITY = "link", "qr", "code", "claim", "identity"
# One entry per rank; QR and a typed code are equally strong by default.
DEFAULT_PRIORITY: tuple = (LINK, (QR, CODE), CLAIM, IDENTITY)
# Sources that say nothing about *when* the prospect met the referrer: no window edge and
# no first/last ordering; two referrers here can only be settled by a person.
UNTIMED = {CLAIM, IDENTITY}

ATTRIBUTED = "attributed"
REVIEW = "review"
NONE = "none"

# The evidence's outcome, reason and loser codes as staff read them on the referral page;
# the stored evidence keeps the codes.
EVIDENCE_LABELS = {
    ATTRIBUTED: _("Attributed"),
    REVIEW: _("Needs a person"),
    NONE: _("Not attributed"),
    "first_touch": _("the first touch wins"),
    "last_touch": _("the last touch wins"),
    "self_referral": _("self-referral"),
    "no_valid_touch": _("no valid touch"),
    "conflicting_referrers": _("several referrers tie"),
    "leaked_code": _("leaked code"),
    "outside_window": _("outside the window"),
    "same_referrer": _("another touch of the same referrer counts"),
    "later_touch": _("a later touch (the first one wins)"),
    "earlier_touch": _("an earlier touch (the last one wins)"),
    "lower_priority": _("a lower-priority source"),
}


def evidence_label(code: str) -> str:
    label = EVIDENCE_LABELS.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class Touch:
    source: str  # link | qr | code | claim | identity
    referrer_id: int
    at: datetime
    click_id: str = ""
    code: str = ""
    leaked: bool = False
    # Set by the service when the referrer is (or shares an identifier with) the referee.
    self_referral: bool = False

    def sort_key(self) -> tuple:
        return (self.at, self.source, self.click_id, self.code, self.referrer_id, self.leaked)

    def as_evidence(self) -> dict:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True)
class Settings:
    window_days: int = 30
    model: str = "last"  # first | last
    priority: tuple = DEFAULT_PRIORITY
    assist_window_days: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Settings:
        priority = tuple(
            tuple(p) if isinstance(p, (list, tuple)) else p
            for p in (data.get("priority") or DEFAULT_PRIORITY)
        )
        return cls(
            window_days=int(data.get("window_days") or 30),
            model=str(data.get("model") or "last"),
            priority=priority,
            assist_window_days=data.get("assist_window_days"),
        )

    def rank(self, source: str) -> int:
        """Lower is stronger. An entry is a source or a group of equal ones: ("qr", "code")
        or "qr|code"; a source not named ranks below all."""
        for index, entry in enumerate(self.priority):
            group = (
                entry
                if isinstance(entry, tuple)
                else tuple(str(entry).replace("/", "|").split("|"))
            )
            if source in group:
                return index
        return len(self.priority)


@dataclass(frozen=True)
class Decision:
    outcome: str  # attributed | review | none
    referrer_id: int | None = None
    source: str = ""
    winner: Touch | None = None
    assists: tuple[Touch, ...] = ()
    # (touch, why) for every touch that did not win.
    losers: tuple[tuple[Touch, str], ...] = ()
    self_referral: bool = False
    reason: str = ""
    rule: dict = field(default_factory=dict)

    def evidence(self) -> dict:
        """The permanent record of why (SEMANTICS §3), stored on the referral."""
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "rule": self.rule,
            "winner": self.winner.as_evidence() if self.winner else None,
            "assists": [t.as_evidence() for t in self.assists],
            "losers": [{**t.as_evidence(), "why": why} for t, why in self.losers],
            "self_referral": self.self_referral,
        }


def in_window(touch: Touch, signup_at: datetime, settings: Settings) -> bool:
    """A timed touch counts from its time until `window_days` later, edges included;
    a touch after the sign-up did not cause it. Claims and identity matches are judged
    by distance alone: a claim made after a purchase still counts within the window."""
    window = timedelta(days=settings.window_days)
    if touch.source in UNTIMED:
        return abs(signup_at - touch.at) <= window
    return signup_at - window <= touch.at <= signup_at


def decide(touches, *, signup_at: datetime, settings: Settings) -> Decision:
    """Who referred this sign-up. The same touches give the same answer whatever order
    they were recorded in: everything below works on a canonical ordering."""
    ordered = sorted(set(touches), key=Touch.sort_key)
    rule = {
        "window_days": settings.window_days,
        "model": settings.model,
        "priority": [list(p) if isinstance(p, tuple) else p for p in settings.priority],
        "signup_at": signup_at.isoformat(),
    }
    losers: list[tuple[Touch, str]] = []
    valid: list[Touch] = []
    for touch in ordered:
        if touch.leaked:
            losers.append((touch, "leaked_code"))
        elif not in_window(touch, signup_at, settings):
            losers.append((touch, "outside_window"))
        else:
            valid.append(touch)
    if not valid:
        return Decision(outcome=NONE, losers=tuple(losers), reason="no_valid_touch", rule=rule)

    best_rank = min(settings.rank(t.source) for t in valid)
    top = [t for t in valid if settings.rank(t.source) == best_rank]
    others = [t for t in valid if settings.rank(t.source) != best_rank]

    referrers = {t.referrer_id for t in top}
    if top[0].source in UNTIMED:
        candidates = top
    else:
        edge = min(t.at for t in top) if settings.model == "first" else max(t.at for t in top)
        candidates = [t for t in top if t.at == edge]
    if len({t.referrer_id for t in candidates}) > 1:
        assists = _assists(valid, signup_at, settings)
        return Decision(
            outcome=REVIEW,
            assists=assists,
            losers=tuple(losers),
            reason="conflicting_referrers",
            rule={**rule, "candidates": sorted({t.referrer_id for t in candidates})},
        )
    # Several touches by the one winning referrer: the model's edge picks which one is
    # the evidence; the canonical order breaks the remaining tie.
    winner = candidates[0] if settings.model == "first" else candidates[-1]
    for touch in top:
        if touch is winner:
            continue
        why = (
            "same_referrer"
            if touch.referrer_id == winner.referrer_id
            else ("later_touch" if settings.model == "first" else "earlier_touch")
        )
        losers.append((touch, why))
    for touch in others:
        losers.append((touch, "lower_priority"))
    assists = tuple(t for t in _assists(valid, signup_at, settings) if t != winner)
    return Decision(
        outcome=ATTRIBUTED,
        referrer_id=winner.referrer_id,
        source=winner.source,
        winner=winner,
        assists=assists,
        losers=tuple(sorted(losers, key=lambda pair: pair[0].sort_key())),
        self_referral=winner.self_referral,
        reason="self_referral" if winner.self_referral else f"{settings.model}_touch",
        rule={**rule, "referrers_seen": sorted(referrers | {t.referrer_id for t in others})},
    )


def _assists(valid: list[Touch], signup_at: datetime, settings: Settings) -> tuple[Touch, ...]:
    """Every valid touch is kept as an assist; a program may narrow it to recent ones."""
    if settings.assist_window_days is None:
        return tuple(valid)
    limit = timedelta(days=int(settings.assist_window_days))
    return tuple(t for t in valid if abs(signup_at - t.at) <= limit)
