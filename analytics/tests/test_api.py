"""GET /api/v1/analytics/funnel and /kpis in the API.md shape."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from analytics import rollups

from . import factories as f

NOW = f.at("2026-04-05", 0)


@pytest.fixture
def data(tenant):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
    return d


def test_funnel_answers_counts_per_step_and_step_rates(api, data):
    with time_machine.travel(NOW, tick=False):
        res = api.get("/api/v1/analytics/funnel?program=prog&from=2026-03-01&to=2026-03-31")
    assert res.status_code == 200
    assert res.json() == {  # fmt: skip
        "program": "prog",
        "from": "2026-03-01",
        "to": "2026-03-31",
        "shares": 3,
        "clicks": 4,
        "signups": 3,
        "qualified": 2,
        "converted": 3,
        "retained": 1,
        "rewarded": 3,
        "rates": {
            "clicks": 1.3333,  # 4 / 3
            "signups": 0.75,  # 3 / 4
            "qualified": 0.6667,  # 2 / 3
            "converted": 1.5,  # 3 / 2 (F6 converted in March, created in February)
            "retained": 0.3333,  # 1 / 3
            "rewarded": 3.0,  # 3 / 1
        },
        # As the overview draws them: a share of the base, or a count per unit of it.
        "steps": [
            {"step": "shares", "count": 3, "base": None, "conversion": None, "per_base": None},
            {"step": "clicks", "count": 4, "base": "shares", "conversion": None, "per_base": 1.33},
            {"step": "signups", "count": 3, "base": "clicks", "conversion": 0.75, "per_base": None},
            {"step": "qualified", "count": 2, "base": "signups", "conversion": 0.6667,
             "per_base": None},
            {"step": "converted", "count": 3, "base": "qualified", "conversion": None,
             "per_base": 1.5},
            {"step": "retained", "count": 1, "base": "converted", "conversion": 0.3333,
             "per_base": None},
            {"step": "rewarded", "count": 3, "base": "retained", "conversion": None,
             "per_base": 3.0},
        ],
    }  # fmt: skip


def test_kpis_answer_every_definition_with_money_as_minor_units(api, data):
    with time_machine.travel(NOW, tick=False):
        res = api.get("/api/v1/analytics/kpis?program=prog&from=2026-03-01&to=2026-03-31")
    assert res.status_code == 200
    body = res.json()
    assert body["referral_share"] == 0.4286  # 3 / 7
    assert body["conversion_rate"] == 0.75
    assert body["referrals_per_referrer"] == 1.5
    assert body["participation_rate"] == 0.6667
    assert body["reward_cost"] == {"amount_minor": 8700, "currency": "CNY"}
    assert body["cost_per_referred_customer"] == {"amount_minor": 2900, "currency": "CNY"}
    assert body["fulfilment_rate"] == 0.8571
    assert body["fraud_rate"] == 0.3333
    assert body["review_backlog"] == {"in_review": 2, "past_sla": 1, "sla_hours": 48}
    # Not one March customer has reached day 60 yet: the cohort measures are not yet known.
    assert body["referred_retention_90d"] is None
    assert "referred_retention_90d" in body["not_yet"]
    assert body["approved_unfulfilled"] == {"amount_minor": 1500, "currency": "CNY"}  # 700 + 800
    with time_machine.travel(f.at("2027-04-01", 0), tick=False):
        body = api.get("/api/v1/analytics/kpis?program=prog&from=2026-03-01&to=2026-03-31").json()
    assert body["not_yet"] == []
    assert body["referred_retention_90d"] == 0.6667
    assert body["baseline_retention_90d"] == 0.3333


def test_the_fulfilment_rate_counts_what_fell_due_in_the_range_and_the_cut(api, data):
    """Approved rewards past due count in the range their due day falls in, cut by the
    same filters as the fulfilled ones: the code channel has 2 fulfilled and 1 approved
    past due (due 30 March); February had neither."""
    with time_machine.travel(NOW, tick=False):
        kpis = lambda query: api.get(f"/api/v1/analytics/kpis?program=prog&{query}").json()  # noqa: E731
        assert kpis("from=2026-03-01&to=2026-03-31")["fulfilment_rate"] == 0.8571
        assert kpis("from=2026-03-01&to=2026-03-31&channel=code")["fulfilment_rate"] == 0.6667
        assert kpis("from=2026-02-01&to=2026-02-28")["fulfilment_rate"] is None


def test_a_date_range_ending_before_it_starts_is_a_422_naming_the_field(api, data):
    res = api.get("/api/v1/analytics/funnel?program=prog&from=2026-03-31&to=2026-03-01")
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "validation_failed"
    assert list(res.json()["error"]["fields"]) == ["to"]


def test_an_unparseable_or_missing_date_is_a_422(api, data):
    res = api.get("/api/v1/analytics/kpis?program=prog&from=2026-02-30&to=2026-03-01")
    assert res.status_code == 422
    assert "from" in res.json()["error"]["fields"]
    res = api.get("/api/v1/analytics/kpis?program=prog&to=2026-03-01")
    assert res.status_code == 422
    assert "from" in res.json()["error"]["fields"]


def test_another_tenants_program_is_a_404_like_a_missing_one(other_api, api, data):
    res = other_api.get("/api/v1/analytics/funnel?program=prog&from=2026-03-01&to=2026-03-31")
    assert res.status_code == 404
    assert (
        api.get("/api/v1/analytics/funnel?program=nope&from=2026-03-01&to=2026-03-31").status_code
        == 404
    )


def test_another_tenant_reading_all_programs_sees_none_of_these_numbers(other_api, data):
    res = other_api.get("/api/v1/analytics/funnel?from=2026-03-01&to=2026-03-31")
    assert res.status_code == 200
    assert {k: res.json()[k] for k in ("shares", "clicks", "signups", "converted")} == {
        "shares": 0, "clicks": 0, "signups": 0, "converted": 0,
    }  # fmt: skip


def test_without_an_api_key_the_answer_is_401(data):
    res = APIClient().get("/api/v1/analytics/kpis?from=2026-03-01&to=2026-03-31")
    assert res.status_code == 401


def test_funnel_of_a_channel_through_the_api(api, data):
    res = api.get(
        "/api/v1/analytics/funnel?program=prog&from=2026-03-01&to=2026-03-31&channel=wechat"
    )
    assert {k: res.json()[k] for k in ("shares", "clicks", "signups", "converted")} == {
        "shares": 2, "clicks": 2, "signups": 1, "converted": 1,
    }  # fmt: skip
