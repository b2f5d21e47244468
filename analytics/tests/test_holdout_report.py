"""Incrementality from the program's holdout: treated against held-out members on revenue per
member (purchases − refunds in the range) and referred customers per member, each with its
95 % interval; the page and the API show exactly the selector's figures, money in yuan."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from analytics import rollups, selectors
from analytics.experiments import mean_difference
from analytics.selectors import Filters
from programs.holdout import holdout_members
from programs.models import ProgramVersion
from referral_platform.core.money import format_minor

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = f.at("2026-04-05", 0)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def holdout_on(program, percent, seed=""):
    """A new current version of the program whose spec holds `percent` out."""
    holdout = {"percent": percent, **({"seed": seed} if seed else {})}
    version = ProgramVersion.unscoped.create(
        tenant_id=program.tenant_id,
        program=program,
        number=program.current_version.number + 1,
        spec={**program.spec, "holdout": holdout},
    )
    program.current_version = version
    program.save(update_fields=["current_version"])


@pytest.fixture
def groups(tenant):
    """100 members, half held out. Treated member i buys ¥100 + ¥10 × (i mod 3) in March and
    every fourth refunds ¥5; every other one brought a friend in March. Held-out member i buys
    ¥80 + ¥10 × (i mod 2). An April purchase of every member falls outside the range."""
    with time_machine.travel(NOW, tick=False):
        prog = f.program(tenant, "prog")
        holdout_on(prog, 50)
        people = [f.person(tenant, f"m{i}") for i in range(100)]
        for who in people:
            f.enroll(prog, who, when=f.at("2026-02-20"))
        held = holdout_members(prog, [p.pk for p in people])
        revenue = {"treated": [], "held": []}
        customers = {"treated": [], "held": []}
        treated_i = held_i = 0
        for who in people:
            f.event(who, "purchase", f.at("2026-04-02"), amount=99999, order_id=f"{who.pk}-apr")
            if who.pk in held:
                amount = 8000 + 1000 * (held_i % 2)
                f.event(who, "purchase", f.at("2026-03-10"), amount=amount, order_id=f"{who.pk}")
                revenue["held"].append(amount)
                customers["held"].append(0)
                held_i += 1
                continue
            amount = 10000 + 1000 * (treated_i % 3)
            f.event(who, "purchase", f.at("2026-03-10"), amount=amount, order_id=f"{who.pk}")
            if treated_i % 4 == 0:
                f.event(who, "refund", f.at("2026-03-12"), amount=500, order_id=f"{who.pk}")
                amount -= 500
            revenue["treated"].append(amount)
            brought = treated_i % 2 == 0
            if brought:
                friend = f.person(tenant, f"friend-{who.pk}")
                f.event(friend, "signup", f.at("2026-03-15"))
                f.referral(prog, who, friend, f.at("2026-03-15"))
            customers["treated"].append(int(brought))
            treated_i += 1
        rollups.rollups_rebuild(tenant=tenant)
    return prog, revenue, customers


def test_the_report_compares_revenue_and_referred_customers_per_member(tenant, groups):
    prog, revenue, customers = groups
    report = selectors.holdout_report(tenant=tenant, program=prog, filters=Filters(*MARCH, prog))
    assert (report["treated_members"], report["held_out_members"]) == (
        len(revenue["treated"]),
        len(revenue["held"]),
    )
    assert min(report["treated_members"], report["held_out_members"]) >= 30
    assert report["too_small"] is False

    money = mean_difference(revenue["treated"], revenue["held"])
    got = report["revenue_per_member"]
    assert got["treated_total"] == sum(revenue["treated"])
    for name in ("treated_mean", "held_out_mean", "difference", "ci_low", "ci_high"):
        assert got[name] == {"amount_minor": round(getattr(money, name)), "currency": "CNY"}
    assert money.ci_low > 0 and got["tell"] is True

    count = mean_difference(customers["treated"], customers["held"])
    got = report["customers_per_member"]
    assert (got["treated_total"], got["held_out_total"]) == (sum(customers["treated"]), 0)
    assert got["treated_mean"] == round(count.treated_mean, 3)
    assert (got["ci_low"], got["ci_high"]) == (round(count.ci_low, 3), round(count.ci_high, 3))
    assert got["tell"] is True


def test_the_page_and_the_api_show_the_selectors_figures(tenant, groups, owner, api):
    prog, _revenue, _customers = groups
    report = selectors.holdout_report(tenant=tenant, program=prog, filters=Filters(*MARCH, prog))
    client = Client()
    client.force_login(owner)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/app/analytics/?program=prog&from=2026-03-01&to=2026-03-31")
        body = api.get(
            "/api/v1/analytics/incrementality",
            {"program": "prog", "from": "2026-03-01", "to": "2026-03-31"},
        )
    assert page.context["holdout"] == report
    html = page.content.decode()
    money = report["revenue_per_member"]
    for name in ("treated_mean", "held_out_mean", "difference", "ci_low", "ci_high"):
        shown = format_minor(money[name]["amount_minor"], "CNY", decimals=True)
        assert shown.startswith("¥") and shown in html
    count = report["customers_per_member"]
    assert f"{count['treated_mean']:.2f}" in html
    assert "the program makes a difference" in html
    assert "sample too small to tell" not in html
    assert body.status_code == 200
    assert body.json()["holdout"] == report
    # Without a program there is no holdout to read.
    missing = api.get(
        "/api/v1/analytics/incrementality", {"from": "2026-03-01", "to": "2026-03-31"}
    )
    assert missing.status_code == 422
