"""One number everywhere: every KPI card of the three demo programs (seed_demo) says what the
analytics API answers, and both equal a count made directly in SQL from the raw rows."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from analytics.views import OVERVIEW_KPIS, PER_UNIT, RATIOS
from referral_platform.core import calendar, clock
from referral_platform.core.money import format_minor
from referral_platform.core.templatetags.ui import money_full
from referral_platform.tenancy.middleware import SESSION_KEY
from referral_platform.tenancy.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

_Q = Decimal("0.0001")


def _sql(query: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _one(query: str, *params) -> int:
    return int(_sql(query, *params)[0][0] or 0)


def _ratio(num: int, den: int) -> Decimal | None:
    return None if not den else (Decimal(num) / Decimal(den)).quantize(_Q, ROUND_HALF_EVEN)


def _first_stage(status: str, program_id: int, lo, hi) -> int:
    """Live referrals of the program whose earliest live stage setting `status` is in range."""
    return _one(
        "SELECT COUNT(*) FROM (SELECT s.referral_id, MIN(s.occurred_at) AS first"
        " FROM tracking_referralstage s JOIN tracking_referral r ON r.id = s.referral_id"
        " WHERE r.program_id = %s AND r.status <> 'rejected' AND s.status_set = %s"
        " AND s.reversed_at IS NULL GROUP BY s.referral_id) f"
        " WHERE f.first >= %s AND f.first < %s",
        program_id, status, lo, hi,
    )  # fmt: skip


def _coupon_cost(reward_id: int, participant_id: int, details: dict, since, program_spec) -> int:
    """A fulfilled percent coupon: percent of its holder's first order since it could be
    used, up to its cap; unused, the spec's estimate or its cap."""
    orders = _sql(
        "SELECT amount_minor FROM tracking_event WHERE participant_id = %s AND type = 'purchase'"
        " AND amount_minor > 0 AND occurred_at >= %s AND amount_minor >= %s"
        " ORDER BY occurred_at, id LIMIT 1",
        participant_id, since, int(details.get("min_spend") or 0),
    )  # fmt: skip
    cap = details.get("max_amount")
    if orders:
        off = orders[0][0] * details["percent_off"] // 100
        return off if cap is None else min(off, cap)
    return int(details.get("estimated_value") or cap or 0)


def _direct(tenant: Tenant, program_id: int, start, end, now) -> dict:
    lo, hi = calendar.date_range_bounds(start, end, tenant.calendar)
    t = tenant.pk
    referrals = _one(
        "SELECT COUNT(*) FROM tracking_referral WHERE tenant_id = %s AND program_id = %s"
        " AND status <> 'rejected' AND created_at >= %s AND created_at < %s",
        t, program_id, lo, hi,
    )  # fmt: skip
    referrers = _one(
        "SELECT COUNT(DISTINCT referrer_id) FROM tracking_referral WHERE tenant_id = %s"
        " AND program_id = %s AND status <> 'rejected' AND created_at >= %s AND created_at < %s",
        t, program_id, lo, hi,
    )  # fmt: skip
    signups = _one(
        "SELECT COUNT(*) FROM tracking_event WHERE tenant_id = %s AND type = 'signup'"
        " AND occurred_at >= %s AND occurred_at < %s",
        t, lo, hi,
    )  # fmt: skip
    clicks = _one(
        "SELECT COUNT(*) FROM tracking_click WHERE tenant_id = %s AND program_id = %s"
        " AND is_bot = %s AND ua_class <> 'bot' AND created_at >= %s AND created_at < %s",
        t, program_id, False, lo, hi,
    )  # fmt: skip
    converted = _first_stage("converted", program_id, lo, hi)
    active = _one(
        "SELECT COUNT(DISTINCT e.participant_id) FROM tracking_click c"
        " JOIN tracking_enrollment e ON e.id = c.enrollment_id"
        " WHERE c.tenant_id = %s AND c.program_id = %s AND c.is_bot = %s AND c.ua_class <> 'bot'"
        " AND c.created_at >= %s AND c.created_at < %s AND e.eligible = %s AND e.created_at < %s",
        t, program_id, False, lo, hi, True, hi,
    )  # fmt: skip
    assert not _one(
        "SELECT COUNT(*) FROM tracking_event WHERE tenant_id = %s AND type = 'share'", t
    ), "the demo has no shares; count them here once it does"
    enrolled = _one(
        "SELECT COUNT(*) FROM tracking_enrollment WHERE tenant_id = %s AND program_id = %s"
        " AND eligible = %s AND created_at < %s",
        t, program_id, True, hi,
    )  # fmt: skip
    cost = 0
    fulfilled = 0
    for pk, kind, amount, points, details, pid, side, referral_created, created, spec in _sql(
        "SELECT w.id, w.kind, w.amount_minor, w.points, w.details, w.participant_id, w.side,"
        " r.created_at, w.created_at, v.spec FROM rewards_reward w"
        " LEFT JOIN tracking_referral r ON r.id = w.referral_id"
        " JOIN programs_programversion v ON v.id = w.program_version_id"
        " WHERE w.tenant_id = %s AND w.program_id = %s AND w.fulfilled_at >= %s"
        " AND w.fulfilled_at < %s AND w.reversed_at IS NULL",
        t, program_id, lo, hi,
    ):  # fmt: skip
        details = details if isinstance(details, dict) else json.loads(details or "{}")
        spec = spec if isinstance(spec, dict) else json.loads(spec)
        fulfilled += 1
        if kind == "points":
            value = spec["point_value"]
            cost += points * value["amount"] // value["per_points"]
        elif kind == "coupon" and details.get("percent_off") and amount is None:
            since = referral_created if side == "referee" else created
            cost += _coupon_cost(pk, pid, details, since, spec)
        elif kind != "lottery_ticket":
            cost += amount if amount is not None else int(details.get("estimated_value") or 0)
    past_due = _one(
        "SELECT COUNT(*) FROM rewards_reward WHERE tenant_id = %s AND program_id = %s"
        " AND status = 'approved' AND due_at >= %s AND due_at < %s",
        t, program_id, lo, min(hi, now),
    )  # fmt: skip
    assessed, rejected = _sql(
        "SELECT COUNT(*), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END)"
        " FROM tracking_referral r WHERE tenant_id = %s AND program_id = %s"
        " AND EXISTS (SELECT 1 FROM fraud_assessment a WHERE a.referral_id = r.id)"
        " AND created_at >= %s AND created_at < %s",
        t, program_id, lo, hi,
    )[0]  # fmt: skip
    return {
        "referral_share": _ratio(referrals, signups),
        "conversion_rate": _ratio(converted, clicks),
        "referrals_per_referrer": _ratio(referrals, referrers),
        "participation_rate": _ratio(active, enrolled),
        "reward_cost": cost,
        "cost_per_referred_customer": None
        if not converted
        else int((Decimal(cost) / converted).quantize(Decimal(1), ROUND_HALF_EVEN)),
        "fulfilment_rate": _ratio(fulfilled, fulfilled + past_due),
        "fraud_rate": _ratio(int(rejected or 0), assessed),
    }


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _shown(name: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return format_minor(value, "CNY")
    if name in PER_UNIT:
        return str(PER_UNIT[name] % {"n": f"{value:.2f}"})
    if name in RATIOS:
        return f"{value:.2f}"
    return f"{value * 100:.1f}%"


def test_every_demo_card_equals_the_api_and_a_direct_sql_count():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    keys = dict(re.findall(r"^tenant=(\S+) program=\S+ api_key=(\S+)$", out.getvalue(), re.M))
    web = Client()
    assert web.login(username="analyst@demo.test", password="demo-analyst-pass") or web.login(
        email="analyst@demo.test", password="demo-analyst-pass"
    )
    checked = 0
    for slug, program in (("demo-saas", "saas-b2b"), ("demo-shop", "green-home"),
                          ("demo-school", "study-together")):  # fmt: skip
        tenant = Tenant.objects.get(slug=slug)
        session = web.session
        session[SESSION_KEY] = tenant.pk
        session.save()
        now = clock.now()
        end = calendar.local_date(now, tenant.calendar)
        start = end - timedelta(days=29)
        query = f"program={program}&from={start}&to={end}"
        page = web.get(f"/app/analytics/?{query}")
        assert page.status_code == 200 and page.context["filters"].program.slug == program
        cards = {c["name"]: c for c in page.context["cards"]}
        assert list(cards) == list(OVERVIEW_KPIS)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {keys[slug]}")
        body = api.get(f"/api/v1/analytics/kpis?{query}").json()
        direct = _direct(tenant, page.context["filters"].program.pk, start, end, now)
        html = page.content.decode()
        for name, card in cards.items():
            value = body[name]
            if isinstance(value, dict):
                assert value["currency"] == "CNY"
                value = value["amount_minor"]
            elif value is not None and name != "ltv_to_cac":
                value = Decimal(str(value))
            if name in direct:
                assert value == direct[name], (slug, name, value, direct[name])
            if name in body["not_yet"]:
                # Sign-ups of the last 30 days cannot have a 60-, 90- or 365-day figure yet.
                assert value is None and card["display"] == "not yet", (slug, name)
            else:
                assert card["display"] == _shown(name, value), (slug, name, card["display"])
            assert f'data-kpi="{name}"' in html and card["display"] in html
            checked += 1
        funnel = api.get(f"/api/v1/analytics/funnel?{query}").json()
        steps = {s["step"]: s["count"] for s in page.context["steps"]}
        assert steps == {k: funnel[k] for k in steps}
        drawn = [(s["base"], s["conversion"], s["per_base"]) for s in page.context["steps"]]
        assert drawn == [
            (s["base"], _dec(s["conversion"]), _dec(s["per_base"])) for s in funnel["steps"]
        ]
        assert all(c is None or c <= 1 for _, c, _ in drawn)
        if slug == "demo-shop":
            _holdout_card_checked(api, page, query, tenant, start, end)
    assert checked == 3 * len(OVERVIEW_KPIS)


def _holdout_card_checked(api, page, query, tenant, start, end) -> None:
    """The shop's demo holds members out: the card, the API and SQL say the same."""
    from programs.holdout import holdout_members

    program = page.context["filters"].program
    answer = api.get(f"/api/v1/analytics/incrementality?{query}").json()["holdout"]
    card = page.context["holdout"]
    assert json.loads(json.dumps(card, default=str)) == answer
    lo, hi = calendar.date_range_bounds(start, end, tenant.calendar)
    members = [
        pid
        for (pid,) in _sql(
            "SELECT participant_id FROM tracking_enrollment WHERE program_id = %s"
            " AND created_at < %s",
            program.pk, hi,
        )
    ]  # fmt: skip
    held = holdout_members(program, members)
    assert (answer["treated_members"], answer["held_out_members"]) == (
        len(members) - len(held),
        len(held),
    )
    assert held and answer["too_small"] is True
    revenue = dict(
        _sql(
            "SELECT participant_id, SUM(CASE WHEN type = 'refund' THEN -amount_minor"
            " ELSE amount_minor END) FROM tracking_event WHERE type IN ('purchase', 'refund')"
            " AND occurred_at >= %s AND occurred_at < %s GROUP BY participant_id",
            lo, hi,
        )
    )  # fmt: skip
    held_total = sum(int(revenue.get(pid) or 0) for pid in held)
    treated_total = sum(int(revenue.get(pid) or 0) for pid in members if pid not in held)
    measure = answer["revenue_per_member"]
    assert (measure["held_out_total"], measure["treated_total"]) == (held_total, treated_total)
    assert measure["held_out_mean"]["amount_minor"] == round(held_total / len(held))
    html = page.content.decode()
    held_mean = money_full(measure["held_out_mean"]["amount_minor"], "CNY")
    assert 'data-testid="holdout-too-small"' in html and held_mean in html
