"""What the portal shows, decided by plain functions: masking, share links, the offer in one
sentence per side, the referral timeline, tier progress, balances. No I/O here; the
selectors gather the rows and these turn them into what the customer reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlencode

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from programs.copy import text_in
from programs.engine.conditions import matches
from referral_platform.core.identity import mask_identity  # noqa: F401 — the portal's masker
from referral_platform.core.languages import SUPPORTED_LANGUAGES  # noqa: F401
from referral_platform.core.languages import customer_language as portal_language  # noqa: F401
from referral_platform.core.money import format_minor
from rewards.words import reward_value_text  # noqa: F401 — the words for a reward's value

SHARE_CHANNELS = ("wechat", "whatsapp", "telegram", "email", "sms", "x", "linkedin")
# Every channel a `share` event may name (SEMANTICS §6).
RECORDED_CHANNELS = (*SHARE_CHANNELS, "copy", "poster")


def share_message(spec: Mapping, channel: str, *, program_name: str) -> str:
    """The program's prefilled message for a channel: its own copy, else the generic copy,
    else the offer headline, else a plain invitation; in the active language."""
    language = translation.get_language() or ""
    copy = spec.get("share_copy") or {}
    text = text_in(copy.get(channel), language) or text_in(copy.get("copy"), language)
    if text:
        return text
    headline = text_in((spec.get("offer") or {}).get("headline"), language)
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


def _item_text(item: Mapping, spec: Mapping) -> str:
    options = item.get("options") or []
    if options:
        return _(" or ").join(_one_item_text(o, spec) or o.get("key", "") for o in options)
    return _one_item_text(item, spec)


def _one_item_text(item: Mapping, spec: Mapping) -> str:
    """An item's value, with the rule's words beside it when they name something else: a
    description that states the value ("1 month free", "¥100 cash") stands alone; one that
    names the occasion ("Qualified lead") follows the value: "¥50 cash (Qualified lead)"."""
    description = item.get("description") or ""
    value = reward_value_text(
        kind=item.get("kind", ""),
        amount_minor=item.get("amount"),
        currency=spec.get("currency", ""),
        points=item.get("points"),
        description=description,
        details={k: item[k] for k in ("percent_off", "max_amount", "min_spend") if k in item},
        points_name=(spec.get("points") or {}).get("name", ""),
    )
    if not description or description.casefold() in value.casefold():
        return value
    if value.casefold() in description.casefold() or any(c.isdigit() for c in description):
        return description
    return _("%(value)s (%(label)s)") % {"value": value, "label": description}


def _side_items(stage: Mapping, side: str) -> list[Mapping]:
    return [r for r in stage.get("rewards") or [] if (r.get("side") or "referrer") == side]


# Fields the programs' conditions use, as a referrer reads them in a sentence.
FIELD_WORDS = {
    "first.qualified_lead.expected_users": gettext_lazy("your friend's team expects"),
    "first.qualified_lead.verified": gettext_lazy("your friend's lead is verified"),
    "first.purchase.seats": gettext_lazy("your friend buys"),
}
FIELD_UNITS = {
    "first.qualified_lead.expected_users": gettext_lazy("users"),
    "first.purchase.seats": gettext_lazy("seats"),
}


def condition_resolve(condition, context: Mapping, *, known: str = "referrer", now=None):
    """Decide what can be decided now: the leaves about `known` (the referrer, whose
    attributes the portal has) are evaluated with the engine's own `matches`; the rest stays
    as a condition. True, False, or the condition still open."""
    if not condition:
        return True
    if "all" in condition or "any" in condition:
        joiner = "all" if "all" in condition else "any"
        parts = [condition_resolve(c, context, known=known, now=now) for c in condition[joiner]]
        decisive, neutral = (False, True) if joiner == "all" else (True, False)
        if decisive in parts:
            return decisive
        open_parts = [p for p in parts if p is not neutral]
        if not open_parts:
            return neutral
        return open_parts[0] if len(open_parts) == 1 else {joiner: open_parts}
    if "not" in condition:
        inner = condition_resolve(condition["not"], context, known=known, now=now)
        return (not inner) if isinstance(inner, bool) else {"not": inner}
    field_path = condition.get("field", "")
    about_known = field_path.startswith(known + ".") or condition.get("of") == known
    if about_known:
        return matches(condition, {known: context}, now=now)
    return condition


def condition_words(condition: Mapping) -> str:
    """An open condition in words: "your friend's team expects 10 or more users"."""
    for joiner, word in (("all", _(" and ")), ("any", _(" or "))):
        if joiner in condition:
            return word.join(condition_words(c) for c in condition[joiner])
    if "not" in condition:
        return _("not (%(c)s)") % {"c": condition_words(condition["not"])}
    if "segment" in condition:
        return _("in the “%(s)s” group") % {"s": condition["segment"]}
    path = condition.get("field", "")
    subject = str(FIELD_WORDS.get(path, path.rsplit(".", 1)[-1].replace("_", " ")))
    unit = str(FIELD_UNITS.get(path, ""))
    value = condition.get("value")
    op = condition.get("op")
    if op == "gte":
        text = _("%(subject)s %(value)s or more") % {"subject": subject, "value": value}
    elif op == "lte":
        text = _("%(subject)s %(value)s or fewer") % {"subject": subject, "value": value}
    elif op in ("gt", "lt", "eq", "ne"):
        sign = {"gt": ">", "lt": "<", "eq": "=", "ne": "≠"}[op]
        text = f"{subject} {sign} {value}"
    elif op == "falsy":
        return _("not: %(subject)s") % {"subject": subject}
    else:
        return subject
    return f"{text} {unit}".strip()


def _split_items(items, context, now, spec):
    """Items paid as they are, and those paid only under a condition (with its words);
    an item the referrer's own facts already rule out is not offered at all."""
    plain, conditional = [], []
    for item in items:
        when = item.get("when")
        decided = condition_resolve(when, context, now=now) if context is not None else when
        if decided is True or not when:
            plain.append(_item_text(item, spec))
        elif decided is not False:
            conditional.append((_item_text(item, spec), condition_words(decided)))
    grouped: dict[str, list[str]] = {}
    for text, words in conditional:
        grouped.setdefault(words, []).append(text)
    return plain, [(_join(texts), words) for words, texts in grouped.items()]


def offer_sentences(
    spec: Mapping, *, referrer: Mapping | None = None, now: datetime | None = None
) -> dict[str, str]:
    """What the friend gets and what you get, one sentence each, from the rules. With the
    referrer's attributes (`referrer`, the engine's participant context) an item that rests
    on them is offered only when they qualify; what rests on the friend is said as a
    condition, never promised outright."""
    stages = spec.get("stages") or []
    friend, friend_if = _split_items(
        [i for s in stages for i in _side_items(s, "referee")], referrer, now, spec
    )
    friend_text = _join(friend) or text_in(
        (spec.get("offer") or {}).get("headline"), translation.get_language() or ""
    )
    success = next((s for s in stages if s.get("success")), stages[-1] if stages else {})
    earlier, earlier_if = _split_items(
        [
            i
            for s in stages
            if s is not success
            for i in _side_items(s, "referrer")
            if i.get("kind") != "lottery_ticket"
        ],
        referrer,
        now,
        spec,
    )
    main, main_if = _split_items(_side_items(success, "referrer"), referrer, now, spec)
    out = {"friend": "", "you": ""}
    if friend_text:
        out["friend"] = _("Your friend gets %(items)s.") % {"items": friend_text}
    for items, condition in friend_if:
        out["friend"] += " " + _("If %(condition)s, they also get %(items)s.") % {
            "condition": condition,
            "items": items,
        }
    eligible = [
        r.get("label") or r.get("key") for r in (spec.get("eligibility") or {}).get("referee") or []
    ]
    if out["friend"] and eligible:
        out["friend"] += " " + _("For friends who meet: %(rules)s.") % {"rules": _join(eligible)}
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
    for items, condition in earlier_if + main_if:
        out["you"] += " " + _("If %(condition)s, you also get %(items)s.") % {
            "condition": condition,
            "items": items,
        }
    out["you"] = out["you"].strip()
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
    # When the engine expects the next step; set only while that date is still ahead.
    next_at: datetime | None = None
    # What the referee still has to do, when no date can honestly be given.
    waiting: str = ""


def referral_timeline(
    *,
    spec: Mapping,
    clicked_at: datetime | None,
    signed_up_at: datetime,
    stages: Iterable[StageFact],
    status: str,
    expected: Mapping[str, datetime],
    now: datetime,
) -> Timeline:
    """clicked → signed up → qualified → paid → retained, in the order they happened, with
    the next step.

    Steps the program does not have (no qualifying stage) are left out; a step reached and
    then reversed (a refund inside its hold) counts as not reached. `expected` is the
    engine's `expected_dates` for the referral: a date already past is never shown as
    expected; the step then says what the referee still has to do.
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
    skipped: list[TimelineStep] = []
    done: list[TimelineStep] = []
    rest: list[TimelineStep] = []
    timeline = Timeline()
    for step in present:
        if step == STEP_CLICKED:
            at = clicked_at
            state = "done" if clicked_at else "skipped"
        elif step == STEP_SIGNED_UP:
            at, state = signed_up_at, "done"
        else:
            at = reached.get(step)
            state = "done" if at else "todo"
        item = TimelineStep(step=step, label=step_label(step), state=state, at=at)
        {"done": done, "skipped": skipped}.get(state, rest).append(item)
    # A referee may pay before they qualify: the page tells what happened when it happened.
    done.sort(key=lambda s: s.at)
    if status != "rejected":
        # The next step is the first one after the furthest reached: a friend who paid
        # before qualifying is waiting to be retained, not to qualify.
        furthest = max((present.index(s.step) for s in done), default=-1)
        upcoming = next(
            (s for s in rest if s.state == "todo" and present.index(s.step) > furthest), None
        )
        if upcoming is not None:
            upcoming.state = "next"
            timeline.next_step, timeline.next_label = upcoming.step, upcoming.label
            stage = next(
                (s for s in spec_stages if s.get("status") == STEP_STATUS[upcoming.step]), None
            )
            if stage is not None:
                when = expected.get(stage.get("key"))
                if when is not None and when > now:
                    timeline.next_at = when
                else:
                    timeline.waiting = waiting_text(stage, currency=spec.get("currency", ""))
    # A click not seen (a code typed in) still came first.
    timeline.steps = skipped + done + rest
    return timeline


def _activity_text(condition: Mapping) -> str:
    props = condition.get("properties") or {}
    count = int(condition.get("count") or 1)
    if props.get("field") == "kind" and props.get("value") == "trial_lesson_attended":
        return ngettext("attend a trial lesson", "attend %(n)d trial lessons", count) % {"n": count}
    if props.get("field") == "kind" and props.get("value") == "lesson_attended":
        return ngettext("attend a lesson", "attend %(n)d lessons", count) % {"n": count}
    return _("keep using the product")


def waiting_text(stage: Mapping, *, currency: str) -> str:
    """What the referee still has to do for a stage, in words: "Waiting for your friend to
    pay at least ¥1,680 within 60 days of signing up"."""
    condition = stage.get("condition") or {}
    event = condition.get("event", "")
    if event == "purchase" and condition.get("min_amount"):
        action = _("pay at least %(amount)s") % {
            "amount": format_minor(int(condition["min_amount"]), currency)
        }
    elif event == "purchase":
        action = _("pay")
    elif event == "qualified_lead":
        action = _("become a qualified lead")
    elif event == "activity":
        action = _activity_text(condition)
    else:
        action = _("sign up")
    days = condition.get("within_days_of_signup")
    if days:
        action = ngettext(
            "%(action)s within %(d)d day of signing up",
            "%(action)s within %(d)d days of signing up",
            int(days),
        ) % {"action": action, "d": int(days)}
    return _("Waiting for your friend to %(action)s.") % {"action": action}


# --- Progress --------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    count: int
    next_label: str
    next_threshold: int
    remaining: int
    reached_labels: tuple[str, ...]


# The period a tier ladder counts in, as the progress box names it.
PERIOD_HEADINGS = {
    "day": gettext_lazy("Your progress today"),
    "week": gettext_lazy("Your progress this week"),
    "month": gettext_lazy("Your progress this month"),
    "quarter": gettext_lazy("Your progress this quarter"),
    "season": gettext_lazy("Your progress this season"),
    "year": gettext_lazy("Your progress this year"),
    "lifetime": gettext_lazy("Your progress"),
}


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
    cash_owed: str = ""  # cash owed back beyond what is on the way, when there is any
    charity_pending: str = ""  # donations not made yet (their hold), when there are any


def balances(
    rewards: Iterable[RewardFact],
    *,
    ledger_points: int,
    currency: str,
    cash_debt_minor: int = 0,
    donated_minor: int = 0,
) -> Balances:
    """Points come from the ledger (what was credited, minus what was spent or clawed back);
    pending figures from rewards not yet released, net of `cash_debt_minor` (cash taken back
    after it was paid, kept back from the next payouts, SEMANTICS §10 "Net cash"); what the
    cash on the way does not cover is shown as owed. Donations are what the ledger booked to
    charity (`donated_minor`): a donation counts once made; those waiting for their hold are
    shown apart, as on their way."""
    rewards = list(rewards)
    cash_pending = sum(
        r.amount_minor or 0
        for r in rewards
        if r.kind == "cash" and r.status in ("pending", "approved")
    )
    cash_pending -= max(0, cash_debt_minor)
    cash_owed = format_minor(-cash_pending, currency) if cash_pending < 0 else ""
    cash_pending = max(0, cash_pending)
    cash_paid = sum(
        (r.amount_minor or 0) - (r.reversed_amount_minor or 0)
        for r in rewards
        if r.kind == "cash" and r.status == "fulfilled"
    )
    points_pending = sum(
        r.points or 0 for r in rewards if r.kind == "points" and r.status in ("pending", "approved")
    )
    charity_pending = sum(
        r.amount_minor or 0
        for r in rewards
        if r.kind == "donation" and r.status in ("pending", "approved")
    )
    return Balances(
        points=ledger_points,
        points_pending=points_pending,
        cash_pending=format_minor(cash_pending, currency),
        cash_paid=format_minor(cash_paid, currency),
        charity=format_minor(donated_minor, currency),
        cash_owed=cash_owed,
        charity_pending=format_minor(charity_pending, currency) if charity_pending else "",
    )


def item_text(**value) -> str:
    """A catalogue item or a redemption, named as the program names it (its description),
    else by its value."""
    return value.get("description") or reward_value_text(**value)


def reward_label(*, value: str, description: str) -> str:
    """The rule's own words beside the value, unless they only repeat it."""
    if not description or description.casefold() in value.casefold():
        return ""
    return description


def reward_state_text(*, status: str, hold_reason: str, blocked_reason: str) -> str:
    """The reward's state as the customer reads it; the date sits beside it on the page."""
    if status in ("pending", "approved") and hold_reason == "review":
        return _("Being checked")
    if status == "pending":
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
