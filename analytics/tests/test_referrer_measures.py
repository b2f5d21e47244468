"""Referrer-side measures on a hand-built January: referrers against customers who refer no
one, referred against non-referred customers, and satisfaction from the latest NPS."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from analytics import rollups
from analytics.referrer_measures import latest_scores, referrer_measures
from analytics.selectors import Filters

from . import factories as f

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))
MATURE = f.at("2027-02-01", 0)


@pytest.fixture
def jan(tenant):
    d = type("Jan", (), {})()
    d.prog = prog = f.program(tenant, "prog")
    d.r1, d.n1, d.e1 = (f.person(tenant, x) for x in ("R1", "N1", "E1"))
    f.enroll(prog, d.r1, when=f.at("2026-01-01"))
    # R1 signs up, buys twice (the second 22 days later), is active on days 25 and 70.
    f.event(d.r1, "signup", f.at("2026-01-05"))
    f.event(d.r1, "purchase", f.at("2026-01-10"), amount=10000, order_id="r1-1")
    f.event(d.r1, "purchase", f.at("2026-02-01"), amount=5000, order_id="r1-2")
    f.event(d.r1, "activity", f.at("2026-01-30"), properties={"kind": "login", "nps": 9})
    f.event(d.r1, "activity", f.at("2026-03-16"), properties={"kind": "login"})
    f.event(d.r1, "activity", f.at("2026-01-31"), properties={"nps": 7})  # the latest: 7
    # N1 refers no one: one purchase, never seen again.
    f.event(d.n1, "signup", f.at("2026-01-06"))
    f.event(d.n1, "purchase", f.at("2026-01-07"), amount=8000, order_id="n1-1")
    f.event(d.n1, "activity", f.at("2026-01-08"), properties={"nps": 3})
    f.event(d.n1, "activity", f.at("2026-01-09"), properties={"nps": 11})  # not a score
    # E1, referred by R1, is active on day 22 and scores 10; a score after January waits.
    f.referral(prog, d.r1, d.e1, f.at("2026-01-20"), status="converted")
    f.event(d.e1, "signup", f.at("2026-01-20"))
    f.event(d.e1, "activity", f.at("2026-02-11"), properties={"kind": "login"})
    f.event(d.e1, "activity", f.at("2026-01-25"), properties={"nps": 10})
    f.event(d.e1, "activity", f.at("2026-02-20"), properties={"nps": 0})
    rollups.rollups_rebuild(tenant=tenant)
    return d


def test_latest_scores_keep_each_persons_last_valid_score():
    rows = [(1, f.at("2026-01-01"), 9), (1, f.at("2026-01-02"), 7), (2, f.at("2026-01-01"), 11),
            (2, f.at("2026-01-02"), "8"), (3, f.at("2026-01-01"), True), (4, f.at("2026-01-03"), 0)]  # fmt: skip
    assert latest_scores(rows) == {1: 7, 4: 0}


def test_referrers_and_referred_customers_against_their_comparison_groups(tenant, jan):
    m = referrer_measures(tenant=tenant, filters=Filters(*JANUARY, program=jan.prog), now=MATURE)
    money = {"currency": "CNY"}
    assert m["referrers"] == {  # R1
        "customers": 1, "retention_30d": Decimal("1.0000"), "retention_90d": Decimal("1.0000"),
        "repurchase_60d": Decimal("1.0000"), "ltv_365d": {"amount_minor": 15000, **money},
    }  # fmt: skip
    assert m["non_referrers"] == {  # N1 and E1 referred no one
        "customers": 2, "retention_30d": Decimal("0.5000"), "retention_90d": Decimal("0.0000"),
        "repurchase_60d": Decimal("0.0000"), "ltv_365d": {"amount_minor": 4000, **money},
    }  # fmt: skip
    assert m["referred"] == {  # E1: active on day 22, not on days 60–90, never bought
        "customers": 1, "retention_30d": Decimal("1.0000"), "retention_90d": Decimal("0.0000"),
        "repurchase_60d": None, "ltv_365d": {"amount_minor": 0, **money},
    }  # fmt: skip
    assert m["non_referred"] == {  # R1 and N1
        "customers": 2, "retention_30d": Decimal("0.5000"), "retention_90d": Decimal("0.5000"),
        "repurchase_60d": Decimal("0.5000"), "ltv_365d": {"amount_minor": 11500, **money},
    }  # fmt: skip
    assert m["satisfaction"] == {
        "referrers": {"people": 1, "average": Decimal("7.00")},
        "referred": {"people": 1, "average": Decimal("10.00")},
        "others": {"people": 1, "average": Decimal("3.00")},
    }


def test_a_january_read_on_15_february_knows_no_30_day_figure_yet(tenant, jan):
    m = referrer_measures(
        tenant=tenant, filters=Filters(*JANUARY, program=jan.prog), now=f.at("2026-02-15")
    )
    assert m["referred"]["customers"] == 1
    assert [m["referred"][k] for k in ("retention_30d", "retention_90d", "ltv_365d")] == [
        None, None, None,
    ]  # fmt: skip


def test_the_api_and_the_cohorts_page_show_the_same_measures(tenant, jan, api, analyst):
    query = "program=prog&from=2026-01-01&to=2026-01-31"
    with time_machine.travel(MATURE, tick=False):
        body = api.get(f"/api/v1/analytics/referrers?{query}").json()
        client = Client()
        client.force_login(analyst)
        page = client.get(f"/app/analytics/cohorts/?{query}")
    assert body["referrers"]["retention_90d"] == 1.0
    assert body["non_referred"]["ltv_365d"] == {"amount_minor": 11500, "currency": "CNY"}
    assert body["satisfaction"]["referred"] == {"people": 1, "average": 10.0}
    rows = {r["measure"]: r["cells"] for r in page.context["measure_rows"]}
    assert rows["retention_30d"] == ["100.0%", "50.0%", "100.0%", "50.0%"]
    assert rows["repurchase_60d"] == ["100.0%", "0.0%", "—", "50.0%"]
    assert rows["ltv_365d"] == ["¥150", "¥40", "¥0", "¥115"]
    html = page.content.decode()
    assert (
        'data-testid="satisfaction"' in html and '<td class="text-end" data-score>7.00</td>' in html
    )

    with time_machine.travel(f.at("2026-02-15"), tick=False):
        young = client.get(f"/app/analytics/cohorts/?{query}")
    rows = {r["measure"]: r["cells"] for r in young.context["measure_rows"]}
    assert rows["retention_30d"] == ["not yet"] * 4
    assert rows["customers"] == ["1", "2", "1", "2"]
