"""Redeeming green miles in the portal: the catalogue with each item's cost, a Redeem
button, the answer with the coupon code and the new balance."""

import re
from datetime import timedelta

import pytest
import time_machine

from rewards.models import Redemption
from tracking.models import Enrollment

from .conftest import T0, portal_client, tick

LATER = T0 + timedelta(days=15, hours=3)


@pytest.fixture
def miles(api, busy_shop):
    """Past the hold and the choice deadline: Lena's success paid Alice 300 green miles."""
    for days in (7, 15):
        with time_machine.travel(T0 + timedelta(days=days, hours=2), tick=False):
            tick()
    return busy_shop


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _catalogue(html: str) -> list[tuple[str, str, bool]]:
    rows = re.findall(
        r'<li data-testid="catalogue-item" data-item="([^"]+)">(.*?)</li>', html, re.S
    )
    return [(key, _flat(body), "disabled" in body) for key, body in rows]


def _redeem(client, alice, item: str, nonce: str = "n1"):
    enrollment = Enrollment.objects.for_tenant(alice.tenant_id).get(participant=alice)
    return client.post(
        "/portal/redeem/",
        {"enrollment": enrollment.pk, "item": item, "nonce": nonce},
        follow=True,
    )


def _points(html: str) -> str:
    return re.search(r'data-testid="points">([^<]*)<', html).group(1)


def test_the_catalogue_lists_each_item_with_its_cost_and_what_the_balance_affords(api, miles):
    with time_machine.travel(LATER, tick=False):
        html = portal_client(api, "alice").get("/portal/").content.decode()
    assert _points(html) == "300"
    assert _catalogue(html) == [
        ("coupon_10", "¥10 coupon · 200 green miles Redeem", False),
        ("coupon_15", "¥15 off ≥ ¥119 · 300 green miles Redeem", False),
        ("coupon_20", "¥20 coupon · 400 green miles Redeem", True),
        ("free_shipping_month", "One month of free shipping · 600 green miles Redeem", True),
    ]


def test_redeeming_answers_with_the_code_and_the_new_balance_and_a_double_submit_counts_once(
    api, miles, tenant
):
    _program, _code, alice = miles
    with time_machine.travel(LATER, tick=False):
        client = portal_client(api, "alice")
        response = _redeem(client, alice, "coupon_10")
        again = _redeem(client, alice, "coupon_10")

    redemption = Redemption.objects.for_tenant(tenant).get()
    code = redemption.code
    html = response.content.decode()
    assert response.redirect_chain == [("/portal/#redeem", 302)]
    assert re.findall(r'<p class="msg msg-success">([^<]+)</p>', html) == [
        f"Done: ¥10 coupon for 200 points. Your code: {code}. Points left: 100."
    ]
    assert _points(html) == "100"
    redeemed = re.findall(r'<li data-testid="redeemed">(.*?)</li>', html, re.S)
    assert [_flat(r) for r in redeemed] == [
        f"¥10 coupon · code {code} · 200 green miles, April 21, 2026"
    ]
    # 100 left: no item is affordable any more.
    assert [(key, off) for key, _text, off in _catalogue(html)] == [
        ("coupon_10", True),
        ("coupon_15", True),
        ("coupon_20", True),
        ("free_shipping_month", True),
    ]
    # The same form sent twice: the first redemption again, nothing more spent.
    assert _points(again.content.decode()) == "100"
    assert Redemption.objects.for_tenant(tenant).count() == 1
    with time_machine.travel(LATER, tick=False):
        exported = client.get("/portal/privacy/export.json").json()["redemptions"]
    assert [(r["item"], r["points"], r["code"]) for r in exported] == [("coupon_10", 200, code)]


def test_a_short_balance_is_refused_with_the_reason_and_nothing_is_spent(api, miles, tenant):
    _program, _code, alice = miles
    with time_machine.travel(LATER, tick=False):
        response = _redeem(portal_client(api, "alice"), alice, "coupon_20")
    html = response.content.decode()
    assert re.findall(r'<p class="msg msg-error">([^<]+)</p>', html) == [
        "Not enough points: this item costs 400, the balance is 300."
    ]
    assert _points(html) == "300"
    assert not Redemption.objects.for_tenant(tenant).exists()


def test_another_participants_enrollment_is_a_404(api, miles, tenant):
    _program, _code, alice = miles
    api.post("/api/v1/participants", {"external_id": "zoe"}, format="json")
    api.post("/api/v1/programs/green-home/enrollments", {"participant": "zoe"}, format="json")
    zoe = Enrollment.objects.for_tenant(tenant).get(participant__external_id="zoe")
    with time_machine.travel(LATER, tick=False):
        response = portal_client(api, "alice").post(
            "/portal/redeem/", {"enrollment": zoe.pk, "item": "coupon_10", "nonce": "x"}
        )
    assert response.status_code == 404
    assert not Redemption.objects.for_tenant(tenant).exists()
