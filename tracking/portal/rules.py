"""What the portal shows, decided by plain functions: masking, share links, the offer in one
sentence per side, the referral timeline, tier progress, balances. No I/O here; the
selectors gather the rows and these turn them into what the customer reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlencode

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from referral_platform.core.identity import mask_identity  # noqa: F401 — the portal's masker
from referral_platform.core.money import format_minor

SHARE_CHANNELS = ("wechat", "whatsapp", "telegram", "email", "sms", "x", "linkedin")
# Every channel a `share` event may name (SEMANTICS §6).
RECORDED_CHANNELS = (*SHARE_CHANNELS, "copy", "poster")
SUPPORTED_LANGUAGES = ("en", "zh-hans")


def portal_language(participant_locale: str, tenant_locale: str) -> str:
    """`zh`, `zh-CN`, `zh_Hans`, `zh-hans-CN` all read as Simplified Chinese; the rest English."""
    for value in (participant_locale, tenant_locale):
        code = (value or "").strip().lower().replace("_", "-")
        if not code:
            continue
        if code.startswith("zh") and not any(t in code for t in ("hant", "-tw", "-hk", "-mo")):
            return "zh-hans"
        return "en"
    return "en"


def share_message(spec: Mapping, channel: str, *, program_name: str) -> str:
    """The program's prefilled message for a channel: its own copy, else the generic copy,
    else the offer headline, else a plain invitation."""
    copy = spec.get("share_copy") or {}
    text = copy.get(channel) or copy.get("copy")
    if text:
        return text
    headline = (spec.get("offer") or {}).get("headline")
    if headline:
        return headline
    return _("Join me on %(program)s.") % {"program": program_name}


def share_link(channel: str, *, url: str, message: str, subject: str = "") -> str:
    """The URL a share button opens. WeChat has no web share URL: the page shows the QR and a
    copy button instead, so it gets none."""
    text_and_url = f"{message} {url}".strip()
    if channel == "whatsapp":
        return "https://wa.me/?" + urlencode({"text": text_and_url}, quote_via=quote)
    if channel == "telegram":
        return "https://t.me/share/url?" + urlencode({"url": url, "text": message}, quote_via=quote)
    if channel == "email":
        query = urlencode({"subject": subject or message, "body": text_and_url}, quote_via=quote)
        return "mailto:?" + query
    if channel == "sms":
        # `?&body=` is the form both iOS and Android accept.
        return "sms:?&" + urlencode({"body": text_and_url}, quote_via=quote)
    if channel == "x":
        return "https://x.com/intent/post?" + urlencode(
            {"text": message, "url": url}, quote_via=quote
        )
    if channel == "linkedin":
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode(
            {"url": url}, quote_via=quote
        )
    return ""


def channel_url(base_url: str, channel: str) -> str:
    """The referral link a channel shares: `/r/<code>?s=<channel>` (SEMANTICS §3)."""
    return f"{base_url}?s={channel}"


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _item_text(item: Mapping) -> str:
    options = item.get("options") or []
    if options:
        return _(" or ").join(o.get("description") or o.get("key", "") for o in options)
    return item.get("description") or ""


def _side_items(stage: Mapping, side: str) -> list[Mapping]:
    return [r for r in stage.get("rewards") or [] if (r.get("side") or "referrer") == side]


def offer_sentences(spec: Mapping) -> dict[str, str]:
    """What the friend gets and what you get, one sentence each, from the rules."""
    stages = spec.get("stages") or []
    friend = [_item_text(i) for s in stages for i in _side_items(s, "referee")]
    friend_text = _join(friend) or (spec.get("offer") or {}).get("headline", "")
    success = next((s for s in stages if s.get("success")), stages[-1] if stages else {})
    earlier = [
        _item_text(i)
        for s in stages
        if s is not success
        for i in _side_items(s, "referrer")
        if i.get("kind") != "lottery_ticket"
    ]
    main = [_item_text(i) for i in _side_items(success, "referrer")]
    out = {"friend": "", "you": ""}
    if friend_text:
        out["friend"] = _("Your friend gets %(items)s.") % {"items": friend_text}
    if main:
        out["you"] = _("You get %(items)s for each successful referral.") % {"items": _join(main)}
        if earlier:
            out["you"] = _(
                "You get %(early)s along the way, then %(items)s for each successful referral."
            ) % {
                "early": _join(earlier),
                "items": _join(main),
            }
    elif earlier:
        out["you"] = _("You get %(items)s.") % {"items": _join(earlier)}
    return out


def ineligible_labels(spec: Mapping, reasons: Iterable[str]) -> list[str]:
    """The referrer rules a participant fails, in the program's own words (SEMANTICS §4)."""
    labels = {
        r.get("key"): r.get("label") or r.get("key")
        for r in (spec.get("eligibility") or {}).get("referrer") or []
    }
    out = []
    for reason in reasons:
        key = str(reason).removeprefix("ineligible:")
        out.append(labels.get(key, key))
    return out


# --- The referral timeline -------------------------------------------------------------

STEP_CLICKED, STEP_SIGNED_UP, STEP_QUALIFIED, STEP_PAID, STEP_RETAINED = (
    "clicked",
    "signed_up",
    "qualified",
    "paid",
    "retained",
)
STEPS = (STEP_CLICKED, STEP_SIGNED_UP, STEP_QUALIFIED, STEP_PAID, STEP_RETAINED)
# Which referral status a step stands for (SEMANTICS §2: `converted` is the paid stage).
STEP_STATUS = {STEP_QUALIFIED: "qualified", STEP_PAID: "converted", STEP_RETAINED: "retained"}


def step_label(step: str) -> str:
    return {
        STEP_CLICKED: _("Clicked"),
        STEP_SIGNED_UP: _("Signed up"),
        STEP_QUALIFIED: _("Qualified"),
        STEP_PAID: _("Paid"),
        STEP_RETAINED: _("Retained"),
    }[step]


@dataclass(frozen=True)
class StageFact:
    key: str
    status_set: str
    occurred_at: datetime
    due_at: datetime | None = None
    reversed_at: datetime | None = None


@dataclass
class TimelineStep:
    step: str
    label: str
    state: str  # done | next | todo | skipped
    at: datetime | None = None


@dataclass
class Timeline:
    steps: list[TimelineStep] = field(default_factory=list)
    next_step: str = ""
    next_label: str = ""
    # When the next step is expected (`expected`) or must happen by (`deadline`).
    next_at: datetime | None = None
    next_at_kind: str = ""


def referral_timeline(
    *,
    spec: Mapping,
    clicked_at: datetime | None,
    signed_up_at: datetime,
    stages: Iterable[StageFact],
    status: str,
    add_business_days,
    add_days,
) -> Timeline:
    """clicked → signed up → qualified → paid → retained, with the next expected step.

    Steps the program does not have (no qualifying stage) are left out; a step reached and
    then reversed (a refund inside its hold) counts as not reached. `add_business_days` and
    `add_days` are the tenant calendar's, passed in so this stays pure.
    """
    reached: dict[str, datetime] = {}
    for stage in stages:
        if stage.reversed_at is not None or not stage.status_set:
            continue
        for step, st in STEP_STATUS.items():
            if st == stage.status_set and (
                step not in reached or stage.occurred_at < reached[step]
            ):
                reached[step] = stage.occurred_at
    spec_stages = spec.get("stages") or []
    statuses = {s.get("status") for s in spec_stages}
    present = [STEP_CLICKED, STEP_SIGNED_UP] + [
        step for step, st in STEP_STATUS.items() if st in statuses or step in reached
    ]
    timeline = Timeline()
    found_next = False
    stopped = status in ("rejected",)
    for step in present:
        if step == STEP_CLICKED:
            at = clicked_at
            state = "done" if clicked_at else "skipped"
        elif step == STEP_SIGNED_UP:
            at, state = signed_up_at, "done"
        else:
            at = reached.get(step)
            state = "done" if at else "todo"
        if state == "todo" and not found_next and not stopped:
            state = "next"
            found_next = True
            timeline.next_step = step
            timeline.next_label = step_label(step)
            stage = next((s for s in spec_stages if s.get("status") == STEP_STATUS[step]), None)
            if stage is not None:
                when, kind = _expected(stage, signed_up_at, reached, add_business_days, add_days)
                timeline.next_at, timeline.next_at_kind = when, kind
        timeline.steps.append(TimelineStep(step=step, label=step_label(step), state=state, at=at))
    return timeline


def _expected(stage, signed_up_at, reached, add_business_days, add_days):
    if stage.get("expected_business_days"):
        return add_business_days(signed_up_at, int(stage["expected_business_days"])), "expected"
    condition = stage.get("condition") or {}
    if condition.get("within_days_of_signup"):
        return add_days(signed_up_at, int(condition["within_days_of_signup"])), "deadline"
    after = condition.get("after_stage")
    if after and condition.get("within_days_of_stage"):
        # The step named by `after_stage` is not tracked by status here; anchor on sign-up
        # only when nothing better is known would mislead, so say nothing instead.
        return None, ""
    return None, ""


# --- Progress --------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    count: int
    next_label: str
    next_threshold: int
    remaining: int
    reached_labels: tuple[str, ...]


def tier_progress(tiers: list[Mapping], count: int) -> TierProgress | None:
    """Where a count stands on the ladder of one period: the next tier and how far it is."""
    if not tiers:
        return None
    ordered = sorted(tiers, key=lambda t: int(t.get("threshold", 0)))
    reached = tuple(_tier_label(t) for t in ordered if count >= int(t["threshold"]))
    upcoming = next((t for t in ordered if count < int(t["threshold"])), None)
    if upcoming is None:
        return TierProgress(count, "", 0, 0, reached)
    return TierProgress(
        count=count,
        next_label=_tier_label(upcoming),
        next_threshold=int(upcoming["threshold"]),
        remaining=int(upcoming["threshold"]) - count,
        reached_labels=reached,
    )


def _tier_label(tier: Mapping) -> str:
    if tier.get("label"):
        return tier["label"]
    return _join([i.get("description", "") for i in tier.get("rewards") or []]) or tier["key"]


def rank_of(counts: Mapping[int, int], participant_id: int) -> int | None:
    """1 + how many others counted more; None without a count. Ties share a rank here —
    the season's prizes break ties by who got there first, but the portal shows standing."""
    mine = counts.get(participant_id, 0)
    if not mine:
        return None
    return 1 + sum(1 for pid, c in counts.items() if pid != participant_id and c > mine)


def remaining_text(progress: TierProgress) -> str:
    return ngettext(
        "%(n)d more successful referral to reach %(tier)s.",
        "%(n)d more successful referrals to reach %(tier)s.",
        progress.remaining,
    ) % {"n": progress.remaining, "tier": progress.next_label}


# --- Rewards and balances --------------------------------------------------------------

LIVE_STATUSES = ("pending", "approved", "fulfilled")


@dataclass(frozen=True)
class RewardFact:
    id: int
    kind: str
    status: str
    amount_minor: int | None
    currency: str
    points: int | None
    reversed_amount_minor: int | None = None


@dataclass(frozen=True)
class Balances:
    points: int
    points_pending: int
    cash_pending: str
    cash_paid: str
    charity: str


def balances(rewards: Iterable[RewardFact], *, ledger_points: int, currency: str) -> Balances:
    """Points come from the ledger (what was credited, minus what was spent or clawed back);
    pending figures from rewards not yet released. Donations are the charity total."""
    rewards = list(rewards)
    cash_pending = sum(
        r.amount_minor or 0
        for r in rewards
        if r.kind == "cash" and r.status in ("pending", "approved")
    )
    cash_paid = sum(
        (r.amount_minor or 0) - (r.reversed_amount_minor or 0)
        for r in rewards
        if r.kind == "cash" and r.status == "fulfilled"
    )
    points_pending = sum(
        r.points or 0 for r in rewards if r.kind == "points" and r.status in ("pending", "approved")
    )
    charity = sum(
        r.amount_minor or 0 for r in rewards if r.kind == "donation" and r.status in LIVE_STATUSES
    )
    return Balances(
        points=ledger_points,
        points_pending=points_pending,
        cash_pending=format_minor(cash_pending, currency),
        cash_paid=format_minor(cash_paid, currency),
        charity=format_minor(charity, currency),
    )


def reward_value_text(*, kind: str, amount_minor, currency: str, points, description: str) -> str:
    if description:
        return description
    if amount_minor is not None and currency:
        return format_minor(amount_minor, currency)
    if points:
        return ngettext("%(n)d point", "%(n)d points", points) % {"n": points}
    return ""


def reward_state_text(*, status: str, hold_reason: str, blocked_reason: str) -> str:
    """The reward's state as the customer reads it; the date sits beside it on the page."""
    if status == "pending":
        if hold_reason == "review":
            return _("Being checked")
        if hold_reason == "choice":
            return _("Waiting for your choice")
        return _("Confirmed after the waiting period")
    if status == "approved":
        return _("Approved, on its way")
    if status == "fulfilled":
        return _("Received")
    if status == "reversed":
        return _("Cancelled (order refunded)")
    if status == "capped":
        return _("Over the program's limit")
    if status == "rejected":
        if blocked_reason.startswith("ineligible"):
            return _("Not paid: you were not eligible at the time")
        return _("Not paid")
    if status == "expired":
        return _("Expired")
    return status
