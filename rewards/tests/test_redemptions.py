"""Points redemption against the program's catalogue (green-home: 200 = ¥10 coupon,
300 = ¥15 off ≥ ¥119, 400 = ¥20 coupon, 600 = a month of free shipping)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import pytest
import time_machine

from programs.templates_data.green_home import green_home_spec
from referral_platform.core.errors import Conflict, ValidationFailed
from referral_platform.core.models import AuditEntry
from referral_platform.webhooks.models import WebhookMessage
from referral_platform.webhooks.services import webhook_endpoint_create
from rewards import ledger
from rewards.models import (
    CouponCode,
    LedgerAccount,
    LedgerEntry,
    Redemption,
    Reward,
)
from rewards.services import (
    coupon_pool_upload,
    points_redeem,
    reward_fulfil,
    reward_release,
)
from rewards.sweeps import points_expire
from rewards.tests import factories as f

T0 = datetime.fromisoformat("2026-03-02T02:00:00+00:00")
CODE = re.compile(r"^RF-[A-Z2-9]{4}-[A-Z2-9]{4}$")
_n = itertools.count(1)


def earn(tenant, program, participant, points: int) -> Reward:
    """Points credited the way a success credits them: a reward released and fulfilled."""
    reward = Reward.unscoped.create(
        tenant=tenant,
        program=program,
        program_version=program.current_version,
        participant=participant,
        side="referrer",
        scope=f"period:earn-{next(_n)}",
        reason="stage:referrer_points",
        kind="points",
        points=points,
        due_at=T0 - timedelta(days=1),
        status="pending",
        hold_reason="hold",
    )
    assert reward_release(reward_id=reward.pk)
    assert reward_fulfil(reward_id=reward.pk) == "fulfilled"
    return reward


def green_home(tenant):
    return f.program(tenant, spec=green_home_spec(2026), slug="green-home")


def points(tenant, participant) -> int:
    return ledger.balances(tenant.pk, ledger.participant_account(participant.pk)).get("points", 0)


def entries(tenant, participant) -> list[tuple[str, int]]:
    return list(
        LedgerEntry.objects.for_tenant(tenant)
        .filter(account=ledger.participant_account(participant.pk))
        .order_by("id")
        .values_list("entry_kind", "points")
    )


@pytest.fixture
def shop(tenant):
    program = green_home(tenant)
    alice = f.participant(tenant, "alice")
    return program, alice


@time_machine.travel(T0, tick=False)
def test_200_points_buy_the_10_yuan_coupon_with_a_debit_in_the_chained_ledger(
    tenant, shop, settings
):
    program, alice = shop
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/hook", events=["redemption.created"]
    )
    earn(tenant, program, alice, 300)

    redemption = points_redeem(
        participant=alice, program=program, item_key="coupon_10", actor_label="participant:1"
    )

    assert points(tenant, alice) == 100
    assert entries(tenant, alice) == [("credit", 300), ("redemption", -200)]
    assert ledger.verify_ledger(tenant.pk) == []
    redemption.refresh_from_db()
    assert CODE.match(redemption.code)
    assert (
        redemption.item_key,
        redemption.points,
        redemption.kind,
        redemption.amount_minor,
        redemption.currency,
        redemption.description,
        redemption.expires_at,
        redemption.ledger_entry.points,
    ) == ("coupon_10", 200, "coupon", 1000, "CNY", "¥10 coupon", None, -200)
    entry = AuditEntry.objects.for_tenant(tenant).get(action="points.redeemed")
    assert (entry.actor_label, entry.target_id, entry.data) == (
        "participant:1",
        str(redemption.pk),
        {"program": "green-home", "item": "coupon_10", "points": 200},
    )
    message = WebhookMessage.objects.for_tenant(tenant).get(type="redemption.created")
    assert message.data == {
        "redemption": {
            "id": redemption.pk,
            "participant": "alice",
            "program": "green-home",
            "item": "coupon_10",
            "points": 200,
            "kind": "coupon",
            "amount": {"amount_minor": 1000, "currency": "CNY"},
            "description": "¥10 coupon",
            "code": redemption.code,
            "expires_at": None,
            "created_at": T0.isoformat(),
            "percent_off": None,
            "max_amount": None,
            "min_spend": None,
            "valid_days": None,
        }
    }


@time_machine.travel(T0, tick=False)
def test_a_short_balance_is_refused_and_nothing_is_written(tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 300)
    head_before = LedgerAccount.objects.for_tenant(tenant).get().head_hash
    audit_before = AuditEntry.objects.for_tenant(tenant).count()

    with pytest.raises(Conflict) as refused:
        points_redeem(participant=alice, program=program, item_key="coupon_20")

    assert refused.value.code == "insufficient_points"
    assert refused.value.message == "Not enough points: this item costs 400, the balance is 300."
    assert points(tenant, alice) == 300
    assert entries(tenant, alice) == [("credit", 300)]
    assert LedgerAccount.objects.for_tenant(tenant).get().head_hash == head_before
    assert not Redemption.objects.for_tenant(tenant).exists()
    assert AuditEntry.objects.for_tenant(tenant).count() == audit_before


def test_a_participant_who_never_earned_is_refused_without_opening_an_account(tenant, shop):
    program, alice = shop
    with pytest.raises(Conflict) as refused:
        points_redeem(participant=alice, program=program, item_key="coupon_10")
    assert refused.value.message == "Not enough points: this item costs 200, the balance is 0."
    assert not LedgerAccount.objects.for_tenant(tenant).exists()
    assert not LedgerEntry.objects.for_tenant(tenant).exists()


def test_an_item_missing_from_the_catalogue_is_a_field_error(tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 1000)
    with pytest.raises(ValidationFailed) as refused:
        points_redeem(participant=alice, program=program, item_key="coupon_99")
    assert (refused.value.code, refused.value.fields) == (
        "unknown_item",
        {"item": ["This program's catalogue has no item coupon_99."]},
    )
    assert points(tenant, alice) == 1000
    assert not Redemption.objects.for_tenant(tenant).exists()


@time_machine.travel(T0, tick=False)
def test_a_month_of_free_shipping_is_an_entitlement_for_30_days(tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 600)
    redemption = points_redeem(participant=alice, program=program, item_key="free_shipping_month")
    assert (redemption.kind, redemption.code, redemption.amount_minor, redemption.details) == (
        "perk",
        "",
        None,
        {"duration_days": 30},
    )
    assert redemption.expires_at == T0 + timedelta(days=30)
    assert points(tenant, alice) == 0


@time_machine.travel(T0, tick=False)
def test_coupons_come_from_the_tenants_pool_and_an_empty_pool_refuses_without_a_debit(tenant, shop):
    program, alice = shop
    coupon_pool_upload(tenant=tenant, program=program, rule_key="coupon_15", codes=["G15A", "G15B"])
    earn(tenant, program, alice, 1000)

    first = points_redeem(participant=alice, program=program, item_key="coupon_15")
    second = points_redeem(participant=alice, program=program, item_key="coupon_15")
    assert (first.code, second.code) == ("G15A", "G15B")
    assert first.details == {"min_spend": 11900}
    assert dict(CouponCode.objects.for_tenant(tenant).values_list("code", "redemption_id")) == {
        "G15A": first.pk,
        "G15B": second.pk,
    }
    with pytest.raises(Conflict) as refused:
        points_redeem(participant=alice, program=program, item_key="coupon_15")
    assert refused.value.code == "coupon_pool_empty"
    assert points(tenant, alice) == 400
    assert Redemption.objects.for_tenant(tenant).count() == 2
    # An issued reward coupon never takes a code a redemption took.
    assert CouponCode.objects.for_tenant(tenant).filter(reward__isnull=False).count() == 0


@time_machine.travel(T0, tick=False)
def test_the_same_idempotency_key_redeems_once(tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 500)
    first = points_redeem(
        participant=alice, program=program, item_key="coupon_10", idempotency_key="form-1"
    )
    again = points_redeem(
        participant=alice, program=program, item_key="coupon_10", idempotency_key="form-1"
    )
    assert again.pk == first.pk
    assert points(tenant, alice) == 300
    with pytest.raises(Conflict) as refused:
        points_redeem(
            participant=alice, program=program, item_key="coupon_15", idempotency_key="form-1"
        )
    assert refused.value.code == "idempotency_key_conflict"
    assert points(tenant, alice) == 300


def test_points_left_after_a_redemption_expire_and_the_spent_ones_do_not(tenant, shop):
    program, alice = shop
    with time_machine.travel(T0, tick=False):
        earn(tenant, program, alice, 300)
        points_redeem(participant=alice, program=program, item_key="coupon_10")
    # green-home points expire after 6 months; spending consumed the oldest credit first.
    with time_machine.travel(T0 + timedelta(days=200), tick=False):
        assert points_expire() == 1
    assert entries(tenant, alice) == [("credit", 300), ("redemption", -200), ("expiry", -100)]
    assert points(tenant, alice) == 0
    assert ledger.verify_ledger(tenant.pk) == []


# --- API ------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_the_api_redeems_and_answers_with_the_item_and_the_new_balance(api, tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 500)
    body = {"participant": "alice", "program": "green-home", "item": "coupon_15"}

    response = api.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201
    answer = response.json()
    redemption = Redemption.objects.for_tenant(tenant).get()
    assert CODE.match(answer["code"]) and answer["code"] == redemption.code
    assert answer == {
        "id": redemption.pk,
        "participant": "alice",
        "program": "green-home",
        "item": "coupon_15",
        "points": 300,
        "kind": "coupon",
        "amount": {"amount_minor": 1500, "currency": "CNY"},
        "description": "¥15 off ≥ ¥119",
        "code": answer["code"],
        "expires_at": None,
        "created_at": T0.isoformat(),
        "percent_off": None,
        "max_amount": None,
        "min_spend": {"amount_minor": 11900, "currency": "CNY"},
        "valid_days": None,
        "points_balance": 200,
    }
    retried = api.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (retried.status_code, retried.json()) == (201, answer)
    assert points(tenant, alice) == 200

    listed = api.get("/api/v1/redemptions", {"participant": "alice"}).json()
    assert listed["next"] is None
    assert [r["id"] for r in listed["results"]] == [redemption.pk]
    assert listed["results"][0] == {k: v for k, v in answer.items() if k != "points_balance"}


def test_the_api_refuses_a_short_balance_with_409_and_an_unknown_item_with_422(api, tenant, shop):
    program, alice = shop
    earn(tenant, program, alice, 100)
    short = api.post(
        "/api/v1/redemptions",
        {"participant": "alice", "program": "green-home", "item": "coupon_10"},
        format="json",
    )
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_points"
    unknown = api.post(
        "/api/v1/redemptions",
        {"participant": "alice", "program": "green-home", "item": "yacht"},
        format="json",
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"] == {
        "item": ["This program's catalogue has no item yacht."]
    }
    assert points(tenant, alice) == 100
    assert not Redemption.objects.for_tenant(tenant).exists()


def test_another_tenants_participant_and_redemptions_are_invisible(
    api, other_api, tenant, other_tenant, shop
):
    program, alice = shop
    with time_machine.travel(T0, tick=False):
        earn(tenant, program, alice, 300)
        points_redeem(participant=alice, program=program, item_key="coupon_10")
    green_home(other_tenant)
    response = other_api.post(
        "/api/v1/redemptions",
        {"participant": "alice", "program": "green-home", "item": "coupon_10"},
        format="json",
    )
    assert response.status_code == 404
    assert other_api.get("/api/v1/redemptions").json() == {"results": [], "next": None}
    assert points(tenant, alice) == 100


def test_the_openapi_schema_describes_redemptions(client, db):
    response = client.get("/api/v1/schema/", {"format": "json"})
    schema = response.json()
    operations = schema["paths"]["/api/v1/redemptions"]
    assert sorted(operations) == ["get", "post"]
    body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert sorted(schema["components"]["schemas"][body.rsplit("/", 1)[1]]["required"]) == [
        "item",
        "participant",
        "program",
    ]
    created = operations["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    fields = schema["components"]["schemas"][created["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"code", "points", "expires_at", "points_balance"} <= set(fields)
