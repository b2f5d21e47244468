"""Per-referral decisions: which stages are reached and which reward items they earn.

Pure: facts and a time in, decisions out (SEMANTICS §0). The order of `facts.events` never
matters; everything is computed from `occurred_at`, so re-ordering facts cannot create money.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referral_platform.core import calendar
from referral_platform.core.calendar import TenantCalendar
from referral_platform.core.money import format_minor

from .boosts import boost_in_force
from .conditions import failing_rules, matches
from .types import EventFact, ParticipantFact, ReferralFacts, RewardDecision, StageDecision

# SEMANTICS §3: a QR scan and a typed code rank equally; the model settles between them.
DEFAULT_PRIORITY = ["link", ["qr", "code"], "claim", "identity"]
VALUE_KEYS = (
    "kind", "description", "amount", "points", "percent_off", "max_amount", "min_spend",
    "valid_days", "duration_days", "estimated_value",
)  # fmt: skip
DETAIL_KEYS = (
    "percent_off",
    "max_amount",
    "min_spend",
    "valid_days",
    "duration_days",
    "estimated_value",
)


# ---------------------------------------------------------------- eligibility & attribution


def participant_context(participant: ParticipantFact) -> dict:
    context = dict(participant.attributes)
    context["segments"] = list(participant.segments)
    return context


def eligibility(
    spec: Mapping, participant: ParticipantFact, side: str, now: datetime | None = None
) -> list[str]:
    """The keys of the rules `participant` fails for `side` (empty = eligible). Rules that
    measure time since an attribute (`days_since_*`) need `now`; without it they fail."""
    rules = (spec.get("eligibility") or {}).get(side) or []
    return failing_rules(rules, participant_context(participant), now=now)


def attribution_settings(spec: Mapping) -> dict:
    settings = spec.get("attribution") or {}
    window = settings.get("window_days", 30)
    return {
        "window_days": window,
        "model": settings.get("model", "last"),
        "priority": list(settings.get("priority") or DEFAULT_PRIORITY),
        "assist_window_days": settings.get("assist_window_days", window),
        "claim_after_order": bool(settings.get("claim_after_order", False)),
    }


# ---------------------------------------------------------------- helpers


def parse_dt(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def money(amount: int | None, currency: str) -> str:
    """Minor units as people read them, in the currency's major unit: 5000 CNY → ¥50.00."""
    return format_minor(amount, currency, decimals=True)


def item_value(values: Mapping, spec: Mapping) -> int:
    """What one item may cost, in minor units (cost KPIs, amount caps, budgets)."""
    if values.get("amount") is not None:
        return int(values["amount"])
    if values.get("percent_off") is not None:
        return int(values.get("max_amount") or values.get("estimated_value") or 0)
    if values.get("kind") == "points" and values.get("points"):
        point_value = spec.get("point_value") or {}
        if point_value:
            return values["points"] * point_value["amount"] // point_value["per_points"]
        return 0
    return int(values.get("estimated_value") or 0)


def reserved_value(draft: Mapping, spec: Mapping) -> int:
    """Caps and budgets reserve the most expensive option (SEMANTICS §5)."""
    values = [item_value(draft, spec)] + [item_value(o, spec) for o in draft.get("options") or ()]
    return max(values)


def _in_program(event: EventFact, spec: Mapping) -> bool:
    starts = parse_dt(spec.get("starts_at"))
    ends = parse_dt(spec.get("ends_at"))
    if starts and event.occurred_at < starts:
        return False
    if ends:
        # Events after the end still count within the last window (a late conversion).
        grace = timedelta(days=attribution_settings(spec)["window_days"])
        if event.occurred_at >= ends + grace:
            return False
    return True


def _event_context(event: EventFact | None) -> dict:
    if event is None:
        return {}
    context = dict(event.properties)
    context.setdefault("amount_minor", event.amount_minor)
    return context


def _event_matches(
    event: EventFact, cond: Mapping, signup_at: datetime, stage_times: Mapping[str, datetime]
) -> bool:
    if event.type != cond["event"]:
        return False
    if cond.get("min_amount") is not None and (event.amount_minor or 0) < cond["min_amount"]:
        return False
    if not matches(cond.get("properties"), _event_context(event)):
        return False
    within = cond.get("within_days_of_signup")
    if within is not None and event.occurred_at > signup_at + timedelta(days=within):
        return False
    after = cond.get("after_stage")
    if after:
        start = stage_times.get(after)
        if start is None or event.occurred_at < start:
            return False
        within_stage = cond.get("within_days_of_stage")
        if within_stage is not None and event.occurred_at > start + timedelta(days=within_stage):
            return False
    return True


def _sorted_events(facts: ReferralFacts, spec: Mapping, now: datetime) -> list[EventFact]:
    return sorted(
        (e for e in facts.events if e.occurred_at <= now and _in_program(e, spec)),
        key=lambda e: (e.occurred_at, e.id),
    )


# ---------------------------------------------------------------- stages


def evaluate_stages(
    spec: Mapping, facts: ReferralFacts, now: datetime, cal: TenantCalendar
) -> list[StageDecision]:
    """Every stage reached by `now`, in spec order, with its hold's end and whether an event
    inside that hold reversed it. A stage after a reversed (or unreached) `after_stage` is not
    reached."""
    events = _sorted_events(facts, spec, now)
    reached: dict[str, StageDecision] = {}
    out: list[StageDecision] = []
    for stage in spec["stages"]:
        cond = stage["condition"]
        after = cond.get("after_stage")
        if after and (after not in reached or reached[after].reversed):
            continue
        stage_times = {k: d.occurred_at for k, d in reached.items() if not d.reversed}
        matching = [e for e in events if _event_matches(e, cond, facts.created_at, stage_times)]
        need = cond.get("count", 1)
        if len(matching) < need:
            continue
        event = matching[need - 1]
        hold = stage.get("hold") or {}
        anchor = hold.get("anchor", "event")
        if anchor == "signup":
            anchor_at = facts.created_at
        elif anchor.startswith("stage:") and anchor[6:] in reached:
            anchor_at = reached[anchor[6:]].occurred_at
        else:
            anchor_at = event.occurred_at
        due = calendar.due_at(
            anchor_at, cal, days=hold.get("days", 0), business_days=hold.get("business_days", 0)
        )
        due = max(due, event.occurred_at)
        reversed_at, why = stage_reversal(
            stage,
            event,
            min(anchor_at, event.occurred_at),
            due,
            events,
            facts.created_at,
            stage_times,
        )
        label = stage.get("label") or stage["key"]
        if reversed_at:
            explanation = _("Stage “%(stage)s” reached on %(at)s, then reversed: %(why)s.") % {
                "stage": label,
                "at": calendar.local(event.occurred_at, cal).date().isoformat(),
                "why": why,
            }
        elif due > event.occurred_at:
            explanation = _("Stage “%(stage)s” reached on %(at)s; its hold ends %(due)s.") % {
                "stage": label,
                "at": calendar.local(event.occurred_at, cal).date().isoformat(),
                "due": calendar.local(due, cal).strftime("%Y-%m-%d %H:%M"),
            }
        else:
            explanation = _("Stage “%(stage)s” reached on %(at)s.") % {
                "stage": label,
                "at": calendar.local(event.occurred_at, cal).date().isoformat(),
            }
        decision = StageDecision(
            stage_key=stage["key"],
            status=stage.get("status") or "",
            occurred_at=event.occurred_at,
            event_id=event.id,
            due_at=due,
            success=bool(stage.get("success")),
            reversed=reversed_at is not None,
            reversed_at=reversed_at,
            explanation=explanation,
        )
        reached[stage["key"]] = decision
        out.append(decision)
    return out


def stage_reversal(
    stage, event, start, due, events, signup_at, stage_times
) -> tuple[datetime | None, str]:
    """A refund or a `reverse_on` event that occurred inside the hold reverses the stage, even
    when it arrives late. A partial refund reverses only if what remains is below the
    stage's threshold (SEMANTICS §5). Team enrolment asks the same of a member's payment."""
    if due <= event.occurred_at:
        return None, ""
    cond = stage["condition"]
    threshold = cond.get("min_amount") or 1
    refunded = 0
    for other in events:
        if not (start <= other.occurred_at < due) or other.id == event.id:
            continue
        if other.type == "refund":
            if (
                cond["event"] == "purchase"
                and event.order_id
                and other.order_id
                and other.order_id != event.order_id
            ):
                continue
            if other.amount_minor is None or event.amount_minor is None:
                return other.occurred_at, _("refunded inside the hold")
            refunded += other.amount_minor
            if event.amount_minor - refunded < threshold:
                return other.occurred_at, _("refunded inside the hold")
            continue
        for reverse in stage.get("reverse_on") or ():
            if _event_matches(
                other,
                {k: v for k, v in reverse.items() if k != "after_stage"},
                signup_at,
                stage_times,
            ):
                return other.occurred_at, _("%(type)s inside the hold") % {
                    "type": other.properties.get("kind", other.type)
                }
    return None, ""


def expected_dates(spec: Mapping, facts: ReferralFacts, cal: TenantCalendar) -> dict[str, datetime]:
    """When stages that declare `expected_business_days` are expected (shown, never enforced)."""
    return {
        stage["key"]: calendar.due_at(
            facts.created_at, cal, business_days=stage["expected_business_days"]
        )
        for stage in spec["stages"]
        if stage.get("expected_business_days")
    }


# ---------------------------------------------------------------- rewards


def _values(item: Mapping) -> dict:
    return {k: item[k] for k in VALUE_KEYS if k in item}


def _draft(item, *, beneficiary_id, side, scope, reason, due_at, anchor_at, source_label) -> dict:
    draft = {
        "beneficiary_id": beneficiary_id,
        "side": side,
        "scope": scope,
        "reason": reason,
        "rule_key": item["key"],
        **_values(item),
        "options": [dict(o) for o in item.get("options") or ()],
        "default_option": item.get("default_option"),
        "choice_by": item.get("choice_by", "beneficiary"),
        "choice_days": item.get("choice_days", 0),
        "due_at": due_at,
        "anchor_at": anchor_at,
        "status": "pending",
        "hold_reason": "",
        "blocked_reason": "",
        "boost": "",
        "cap_slot": None,
        "choice_deadline": None,
        "notes": [],
        "source_label": source_label,
    }
    return draft


def _apply_option(draft: dict, option: Mapping) -> None:
    for key in VALUE_KEYS:
        draft.pop(key, None) if key != "kind" else None
    draft.update({k: option[k] for k in VALUE_KEYS if k in option})


def _resolve_choice(draft: dict, chosen: str | None, anchor_event: EventFact | None) -> None:
    options = draft["options"]
    if not options:
        return
    keys = [o["key"] for o in options]
    if chosen not in keys and draft["choice_by"] == "checkout":
        offered = (anchor_event.properties if anchor_event else {}).get("offer_choice")
        # The checkout is over: what the buyer took, or the default they were shown.
        chosen = offered if offered in keys else draft["default_option"]
    if chosen in keys:
        _apply_option(draft, options[keys.index(chosen)])
        draft["chosen"] = chosen
        draft["notes"].append(_("option “%(o)s” chosen") % {"o": chosen})
    else:
        _apply_option(draft, options[keys.index(draft["default_option"])])
        draft["chosen"] = None
        if draft["due_at"] is not None:
            draft["choice_deadline"] = draft["due_at"] + timedelta(days=draft["choice_days"])
        draft["notes"].append(
            _("choose by %(deadline)s, else “%(default)s”")
            % {
                "deadline": draft["choice_deadline"].date().isoformat()
                if draft["choice_deadline"]
                else "-",
                "default": draft["default_option"],
            }
        )


def _apply_boosts(
    draft: dict, boosts, context: Mapping, boost_used: Mapping, spec: Mapping, now, cal
) -> None:
    anchor = draft["anchor_at"]
    for boost in boosts:
        if boost.get("applies_to", "items") != "items" or draft["rule_key"] not in (
            boost.get("items") or ()
        ):
            continue
        if not boost_in_force(boost, anchor, spec, cal):
            continue
        if not matches(boost.get("when"), context, now=now):
            continue
        before = reserved_value(draft, spec)
        boosted = dict(draft)
        boosted["options"] = [dict(o) for o in draft["options"]]
        if boost["mode"] == "multiply":
            factor = boost["factor"]
            for target in [boosted, *boosted["options"]]:
                for key in ("amount", "points"):
                    if target.get(key) is not None:
                        target[key] = target[key] * factor
        else:
            boosted.update(boost.get("set") or {})
            for option in boosted["options"]:
                option.update((boost.get("options_set") or {}).get(option["key"], {}))
        extra = reserved_value(boosted, spec) - before
        limit = boost.get("per_referrer_limit")
        if limit is not None and boost_used.get(boost["key"], 0) + extra > limit:
            draft["notes"].append(
                _("boost “%(b)s” not applied: its per-referrer limit is reached")
                % {"b": boost["key"]}
            )
            continue
        draft.clear()
        draft.update(boosted)
        draft["boost"] = boost["key"]
        draft["boost_extra"] = extra
        draft["notes"].append(_("boosted by “%(b)s”") % {"b": boost.get("label") or boost["key"]})
        return  # boosts never stack on one item


def _cap_referee_discount(drafts: list[dict], cap: int | None) -> None:
    if cap is None:
        return
    used = 0
    for draft in drafts:
        if draft["side"] != "referee" or draft.get("kind") != "coupon":
            continue
        room = max(cap - used, 0)
        if draft.get("amount") is not None:
            if draft["amount"] > room:
                draft["amount"] = room
                draft["notes"].append(_("limited by the per-referee discount cap"))
            used += draft["amount"]
        elif draft.get("percent_off") is not None:
            draft["max_amount"] = min(draft.get("max_amount") or room, room)
            used += draft["max_amount"]


COMPANY_ALREADY_REFERRED = "company_already_referred"


def evaluate_rewards(
    spec: Mapping, facts: ReferralFacts, now: datetime, cal: TenantCalendar
) -> list[RewardDecision]:
    """Every reward item this referral has earned by `now`, blocked ones included.

    Needs: the referral's events, both participants (attributes, segments), the fraud
    decision, `slots_used` / `cap_state` per cap, `boost_used`, `chosen_options`,
    `referrer_successes_before` and `budget_used`. Reversed stages earn nothing here
    (rewards reverses or claws back what it already wrote)."""
    stages = evaluate_stages(spec, facts, now, cal)
    stage_specs = {s["key"]: s for s in spec["stages"]}
    events_by_id = {e.id: e for e in facts.events}
    first_by_type: dict[str, dict] = {}
    for event in sorted(facts.events, key=lambda e: (e.occurred_at, e.id)):
        first_by_type.setdefault(event.type, _event_context(event))
    base_context = {
        "referrer": participant_context(facts.referrer),
        "referee": participant_context(facts.referee),
        "first": first_by_type,
    }
    scope = f"referral:{facts.referral_id}"
    beneficiaries = {"referrer": facts.referrer.id, "referee": facts.referee.id}
    drafts: list[dict] = []
    success: StageDecision | None = None
    for decision in stages:
        if decision.reversed:
            continue
        stage = stage_specs[decision.stage_key]
        anchor_event = events_by_id.get(decision.event_id)
        context = {**base_context, "event": _event_context(anchor_event)}
        label = stage.get("label") or stage["key"]
        for item in stage.get("rewards") or ():
            if not matches(item.get("when"), context, now=now):
                continue
            draft = _draft(
                item, beneficiary_id=beneficiaries[item["side"]], side=item["side"], scope=scope,
                reason=f"stage:{item['key']}", due_at=decision.due_at, anchor_at=decision.occurred_at,
                source_label=label,
            )  # fmt: skip
            draft["anchor_event"] = anchor_event
            drafts.append(draft)
        if decision.success:
            success = decision
            drafts.extend(_success_extras(spec, facts, decision, base_context, scope, now))

    boosts = spec.get("boosts") or ()
    for draft in drafts:
        _resolve_choice(
            draft, facts.chosen_options.get(draft["rule_key"]), draft.get("anchor_event")
        )
        context = {**base_context, "event": _event_context(draft.get("anchor_event"))}
        _apply_boosts(draft, boosts, context, facts.boost_used, spec, now, cal)
        # A boost may change option values after the choice: re-resolve the current values.
        if draft["options"]:
            keys = [o["key"] for o in draft["options"]]
            current = draft.get("chosen") or draft["default_option"]
            _apply_option(draft, draft["options"][keys.index(current)])
    _cap_referee_discount(drafts, spec.get("referee_discount_cap"))

    failing = {
        "referrer": eligibility(spec, facts.referrer, "referrer", now),
        "referee": eligibility(spec, facts.referee, "referee", now),
    }
    if spec.get("first_team_of_company_only") and facts.company_referred_before:
        # SCENARIOS A: only the first referred team of a company counts, for either side.
        failing = {side: [*rules, COMPANY_ALREADY_REFERRED] for side, rules in failing.items()}
    for draft in drafts:
        if failing[draft["side"]]:
            _block(draft, "rejected", f"ineligible:{failing[draft['side']][0]}",
                   _("%(side)s not eligible (%(rule)s)") % {"side": draft["side"], "rule": failing[draft["side"]][0]})  # fmt: skip
    drafts.extend(_apply_caps(spec, facts, drafts, success, scope, cal, failing))
    _apply_budget(spec, facts, drafts)
    for draft in drafts:
        if facts.fraud_decision == "reject" and draft["status"] == "pending":
            _block(draft, "rejected", "fraud", _("rejected after fraud review"))
        if draft["status"] == "pending":
            if facts.fraud_decision == "review":
                draft["hold_reason"] = "review"
                draft["notes"].append(_("held for fraud review"))
            elif draft["options"] and draft.get("chosen") is None:
                draft["hold_reason"] = "choice"
            elif draft["due_at"] is not None and draft["due_at"] > now:
                draft["hold_reason"] = "hold"
    return [_to_decision(d, spec, cal) for d in drafts]


def _success_extras(spec, facts, decision, base_context, scope, now) -> list[dict]:
    extras: list[dict] = []
    referrer = facts.referrer.id

    def add(item, reason, label):
        draft = _draft(
            item, beneficiary_id=referrer if item.get("side", "referrer") == "referrer" else facts.referee.id,
            side=item.get("side", "referrer"), scope=scope, reason=reason, due_at=decision.due_at,
            anchor_at=decision.occurred_at, source_label=label,
        )  # fmt: skip
        extras.append(draft)

    for bonus in spec.get("segment_bonuses") or ():
        if bonus.get("first_success_only") and facts.referrer_successes_before > 0:
            continue
        if matches(bonus["when"], base_context, now=now):
            for item in bonus["rewards"]:
                add(item, f"bonus:{item['key']}", _("bonus “%(k)s”") % {"k": bonus["key"]})
    surprise = spec.get("surprise") or {}
    if surprise.get("probability_percent", 0) > 0:
        digest = hashlib.sha256(
            f"{facts.referral_id}:{spec.get('slug')}:surprise".encode()
        ).hexdigest()
        # Deterministic per referral: anyone can recompute whether it won.
        if int(digest[:8], 16) % 10000 < surprise["probability_percent"] * 100:
            for item in surprise["rewards"]:
                add(item, f"bonus:{item['key']}", _("surprise bonus"))
    charity = spec.get("charity")
    if charity:
        item = {"key": charity["key"], "kind": "donation", "amount": charity["amount"], "side": "referrer",
                "description": charity.get("description") or _("Charity donation")}  # fmt: skip
        add(item, f"charity:{charity['key']}", _("charity matching"))
    return extras


def _block(draft: dict, status: str, reason: str, note: str) -> None:
    draft["status"] = status
    draft["blocked_reason"] = reason
    draft["notes"].append(note)


def _apply_caps(spec, facts, drafts, success, scope, cal, failing) -> list[dict]:
    honors: list[dict] = []
    default_items = {
        d["rule_key"]
        for d in drafts
        if d["side"] == "referrer" and d["reason"].startswith("stage:")
    }
    for cap in spec.get("caps") or ():
        limited = set(cap.get("items") or default_items)
        applicable = [
            d
            for d in drafts
            if d["rule_key"] in limited and d["status"] == "pending" and d["scope"] == scope
        ]
        if not applicable:
            continue
        key, limit = cap["key"], cap["limit"]
        state = facts.cap_state.get(key)
        if cap.get("measure", "count") == "count":
            # The referral's slot is in the period of its first capped item's due_at; later
            # items ride on that slot.
            first = min(applicable, key=lambda d: (d["due_at"], drafts.index(d)))
            period = calendar.period_key(first["due_at"], cap["period"], cal)
            used = facts.slots_used.get((key, period), 0)
            fits = state == "held" or (state != "refused" and used < limit)
            for draft in applicable:
                if fits:
                    draft["cap_slot"] = (key, period)
                else:
                    _block(draft, "capped", f"cap:{key}",
                           _("cap “%(cap)s” reached: %(used)s of %(limit)s in %(period)s") % {"cap": key, "used": used, "limit": limit, "period": period})  # fmt: skip
            if not fits and cap.get("overflow") == "honor" and success is not None:
                honor = cap["honor"]
                draft = _draft(
                    honor, beneficiary_id=facts.referrer.id, side="referrer", scope=scope,
                    reason=f"honor:{honor['key']}", due_at=success.due_at, anchor_at=success.occurred_at,
                    source_label=_("honor for a capped success"),
                )  # fmt: skip
                if failing["referrer"]:
                    _block(
                        draft,
                        "rejected",
                        f"ineligible:{failing['referrer'][0]}",
                        _("referrer not eligible"),
                    )
                honors.append(draft)
        else:
            taken: dict[str, int] = {}
            for draft in sorted(applicable, key=lambda d: (d["due_at"], drafts.index(d))):
                period = calendar.period_key(draft["due_at"], cap["period"], cal)
                value = reserved_value(draft, spec)
                used = facts.slots_used.get((key, period), 0) + taken.get(period, 0)
                if state == "held" or used + value <= limit:
                    taken[period] = taken.get(period, 0) + value
                    draft["cap_slot"] = (key, period)
                else:
                    _block(draft, "capped", f"cap:{key}",
                           _("cap “%(cap)s” reached: %(used)s of %(limit)s in %(period)s") % {"cap": key, "used": money(used, spec["currency"]), "limit": money(limit, spec["currency"]), "period": period})  # fmt: skip
    return honors


def _apply_budget(spec, facts, drafts) -> None:
    budget = spec.get("budget")
    if budget is None:
        return
    running = facts.budget_used
    for draft in drafts:
        if draft["status"] != "pending":
            continue
        value = reserved_value(draft, spec)
        if running + value > budget:
            _block(draft, "capped", "budget", _("the program's budget is spent"))
        else:
            running += value


# A kind after an amount ("¥50.00 cash"), in the page's language.
KIND_WORDS = {
    "cash": gettext_lazy("cash"),
    "coupon": gettext_lazy("coupon"),
    "credit": gettext_lazy("credit"),
    "perk": gettext_lazy("perk"),
    "donation": gettext_lazy("donation"),
}


def describe_value(values: Mapping, currency: str) -> str:
    kind = values.get("kind")
    if values.get("percent_off") is not None:
        text = _("%(p)s%% off") % {"p": values["percent_off"]}
        if values.get("max_amount"):
            text += " " + _("(up to %(m)s)") % {"m": money(values["max_amount"], currency)}
        return text
    if values.get("amount") is not None:
        return f"{money(values['amount'], currency)} {KIND_WORDS.get(kind, kind)}"
    if values.get("points") is not None:
        unit = _("tickets") if kind == "lottery_ticket" else _("points")
        return f"{values['points']} {unit}"
    return values.get("description") or str(kind)


def _currency_of(values: Mapping, currency: str) -> str:
    """The program's currency for an item that holds money (an amount, or a percent coupon's
    cap or minimum spend, which are read in it too), else none."""
    money_keys = ("amount", "max_amount", "min_spend")
    return currency if any(values.get(k) is not None for k in money_keys) else ""


def _to_decision(draft: dict, spec: Mapping, cal: TenantCalendar) -> RewardDecision:
    currency = spec["currency"]
    chosen = draft.get("chosen")
    options = tuple(
        {
            "key": o["key"],
            "kind": o["kind"],
            "amount_minor": o.get("amount"),
            "currency": _currency_of(o, currency),
            "points": o.get("points"),
            "description": o.get("description", ""),
            "details": {k: o[k] for k in DETAIL_KEYS if k in o},
            "chosen": o["key"] == chosen,
        }
        for o in draft["options"]
    )
    side_label = _("Referrer") if draft["side"] == "referrer" else _("Referee")
    explanation = _("%(side)s: %(value)s for %(source)s") % {
        "side": side_label,
        "value": describe_value(draft, currency),
        "source": draft["source_label"],
    }
    if draft["due_at"] is not None:
        # In the tenant's time, as every page shows a date.
        due = calendar.local(draft["due_at"], cal).strftime("%Y-%m-%d %H:%M")
        explanation += " · " + _("due %(d)s") % {"d": due}
    if draft["notes"]:
        explanation += " · " + "; ".join(draft["notes"])
    details = {k: draft[k] for k in DETAIL_KEYS if draft.get(k) is not None}
    if draft.get("default_option"):
        details["default_option"] = draft["default_option"]
    return RewardDecision(
        beneficiary_id=draft["beneficiary_id"],
        side=draft["side"],
        scope=draft["scope"],
        reason=draft["reason"],
        rule_key=draft["rule_key"],
        kind=draft["kind"],
        amount_minor=draft.get("amount"),
        currency=_currency_of(draft, currency),
        points=draft.get("points"),
        description=draft.get("description", ""),
        status=draft["status"],
        due_at=draft["due_at"],
        hold_reason=draft["hold_reason"],
        blocked_reason=draft["blocked_reason"],
        boost=draft["boost"],
        options=options,
        details=details,
        choice_deadline=draft["choice_deadline"],
        cap_slot=draft["cap_slot"],
        explanation=explanation,
    )
