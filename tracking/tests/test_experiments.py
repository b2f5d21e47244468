"""Experiment variants in tracking (SEMANTICS §5): referrer-side assigned at enrollment and
kept, referee-side assigned when the referral is created, and the referral evaluated under
the spec its variants make."""

from datetime import timedelta

import pytest

from programs.services import program_create, program_update
from rewards.models import Reward
from tracking import services
from tracking.models import Enrollment
from tracking.selectors import referral_spec

from .conftest import make_spec
from .test_flow import T0, referral_of, send


def _spec(amount_weights=(0, 1), welcome_weights=(0, 1)) -> dict:
    spec = make_spec(slug="ab")
    spec["stages"][0]["rewards"] = [
        {"key": "paid_referrer", "side": "referrer", "kind": "cash", "amount": 5000,
         "description": "¥50"},
        {"key": "paid_referee", "side": "referee", "kind": "coupon", "amount": 2000,
         "description": "¥20 off"},
    ]  # fmt: skip
    spec["experiments"] = [
        {"key": "amount", "side": "referrer", "variants": [
            {"key": "a", "weight": amount_weights[0]},
            {"key": "b", "weight": amount_weights[1], "overrides": {"stages": [{"key": "paid",
             "rewards": [{"key": "paid_referrer", "amount": 8000, "description": "¥80"}]}]}},
        ]},
        {"key": "welcome", "side": "referee", "variants": [
            {"key": "plain", "weight": welcome_weights[0]},
            {"key": "bigger", "weight": welcome_weights[1], "overrides": {"stages": [
                {"key": "paid", "rewards": [{"key": "paid_referee", "amount": 3000}]}]}},
        ]},
    ]  # fmt: skip
    return spec


@pytest.fixture
def ab(tenant):
    return program_create(tenant=tenant, spec=_spec(), actor=None)


def test_enrollment_assigns_the_referrer_side_variant_and_enrolling_again_keeps_it(
    tenant, ab, alice, bob
):
    enrollment, _code, _ = services.enrollment_create(tenant=tenant, program=ab, participant=alice)
    assert enrollment.variant == "amount:b"  # referee-side experiments wait for the referral
    program_update(program=ab, spec=_spec(amount_weights=(1, 0)), actor=None)
    ab.refresh_from_db()
    services.enrollment_create(tenant=tenant, program=ab, participant=alice)
    services.enrollment_create(tenant=tenant, program=ab, participant=bob)
    assert dict(
        Enrollment.objects.for_tenant(tenant).values_list("participant__external_id", "variant")
    ) == {"u-alice": "amount:b", "u-bob": "amount:a"}


def test_eligibility_at_enrollment_reads_the_rules_of_the_participants_variant(tenant, alice):
    spec = _spec()
    spec["experiments"][0]["variants"][1]["overrides"] = {
        "eligibility": {"referrer": [{"key": "has_order", "label": "Has ordered",
                        "when": {"field": "orders_count", "op": "gte", "value": 1}}]}
    }  # fmt: skip
    program = program_create(tenant=tenant, spec=spec, actor=None)
    enrollment, _code, _ = services.enrollment_create(
        tenant=tenant, program=program, participant=alice
    )
    assert (enrollment.variant, enrollment.eligible, enrollment.ineligible_reasons) == (
        "amount:b",
        False,
        ["has_order"],
    )


def test_the_referral_carries_both_sides_variants_and_pays_what_they_override(tenant, ab, alice):
    code = services.enrollment_create(tenant=tenant, program=ab, participant=alice)[1]
    send(tenant, "s1", "signup", "n1", referral={"code": code.code})
    referral = referral_of(tenant, "n1")
    assert referral.variant == "amount:b,welcome:bigger"
    assert [r["amount"] for r in referral_spec(referral)["stages"][0]["rewards"]] == [8000, 3000]
    send(tenant, "p1", "purchase", "n1", at=T0 + timedelta(hours=1),
         amount={"amount_minor": 12900, "currency": "CNY"})  # fmt: skip
    assert sorted(
        Reward.objects.for_tenant(tenant).values_list("reason", "amount_minor", "description")
    ) == [("stage:paid_referee", 3000, "¥20 off"), ("stage:paid_referrer", 8000, "¥80")]


def test_a_referral_under_a_version_without_the_experiment_follows_that_version(tenant, ab, alice):
    code = services.enrollment_create(tenant=tenant, program=ab, participant=alice)[1]
    spec = _spec()
    del spec["experiments"]
    program_update(program=ab, spec=spec, actor=None)
    send(tenant, "s1", "signup", "n1", referral={"code": code.code})
    referral = referral_of(tenant, "n1")
    assert referral.variant == ""
    assert referral_spec(referral) == referral.program_version.spec
    send(tenant, "p1", "purchase", "n1", at=T0 + timedelta(hours=1),
         amount={"amount_minor": 12900, "currency": "CNY"})  # fmt: skip
    assert sorted(Reward.objects.for_tenant(tenant).values_list("reason", "amount_minor")) == [
        ("stage:paid_referee", 2000),
        ("stage:paid_referrer", 5000),
    ]
