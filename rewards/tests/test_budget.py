"""The program budget counts what the engine counts: points at the program's point value
and choices at their most expensive option, on both sides of the seam (the engine when it
grants, rewards when it sums what is already granted)."""

from datetime import datetime, timedelta

import pytest

from pipeline.flow import event_process_by_id
from programs.services import program_create
from programs.templates_data import blank_spec
from rewards.models import Reward, RewardStatus
from tracking import services

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-02T02:00:00+00:00")


def _spec():
    spec = blank_spec(slug="budgeted", name="Budgeted")
    spec["status"] = "active"
    spec["budget"] = 24000  # ¥240
    spec["point_value"] = {"amount": 100, "per_points": 10}  # 10 points = ¥1
    spec["stages"][0]["rewards"] = [
        {
            "key": "thanks",
            "side": "referrer",
            "kind": "points",
            "points": 300,  # ¥30
            "description": "300 points",
        },
        {
            "key": "choice",
            "side": "referrer",
            "kind": "cash",
            "amount": 5000,
            "description": "¥50 or a ¥80 voucher",
            "options": [
                {"key": "cash", "kind": "cash", "amount": 5000, "description": "¥50"},
                {"key": "voucher", "kind": "credit", "amount": 8000, "description": "¥80"},
            ],
            "default_option": "cash",
            "choice_by": "beneficiary",
            "choice_days": 7,
        },
    ]
    return spec


def _refer(tenant, code, n):
    at = T0 + timedelta(hours=n)
    for event_id, type_, extra in (
        (f"s{n}", "signup", {"referral": {"code": code}}),
        (
            f"p{n}",
            "purchase",
            {"order_id": f"o{n}", "amount": {"amount_minor": 9900, "currency": "CNY"}},
        ),
    ):
        payload = {
            "event_id": event_id,
            "type": type_,
            "occurred_at": at.isoformat(),
            "participant": {"external_id": f"friend{n}", "email": f"friend{n}@163.com"},
            **extra,
        }
        event, _ = services.event_ingest(
            tenant=tenant, data={**payload, "occurred_at": at}, payload=payload
        )
        assert event_process_by_id(event.pk) == "processed"


def test_points_and_the_dearest_option_use_up_the_budget(tenant):
    program = program_create(tenant=tenant, spec=_spec(), actor=None)
    alice, _ = services.participant_upsert(tenant=tenant, external_id="alice", email="alice@qq.com")
    _, code, _ = services.enrollment_create(tenant=tenant, program=program, participant=alice)
    for n in (1, 2, 3):
        _refer(tenant, code.code, n)

    rows = Reward.objects.for_tenant(tenant).order_by("referral__created_at", "rule_key")
    # Each referral reserves ¥30 of points + ¥80 (the dearer option) = ¥110 of ¥240: the
    # first two fit (¥220); the third's points would make ¥250, and its choice more.
    assert [(r.referral.referee.external_id, r.rule_key, r.status) for r in rows] == [
        ("friend1", "choice", RewardStatus.PENDING),
        ("friend1", "thanks", RewardStatus.PENDING),
        ("friend2", "choice", RewardStatus.PENDING),
        ("friend2", "thanks", RewardStatus.PENDING),
        ("friend3", "choice", RewardStatus.CAPPED),
        ("friend3", "thanks", RewardStatus.CAPPED),
    ]
    assert (
        rows.get(referral__referee__external_id="friend3", rule_key="choice").blocked_reason
        == "budget"
    )
