"""Sample data for a fresh demo: referrers, clicks, sign-ups and purchases for each of the
tenant's programs, fed through the ordinary services so the funnel is real."""

from __future__ import annotations

from datetime import timedelta

from pipeline.flow import event_process_by_id
from programs.holdout import SCALE, seed_splitting
from programs.models import Program
from programs.services import program_update
from referral_platform.core import clock
from tracking import identity
from tracking.models import Event
from tracking.services import (
    click_record,
    code_resolve,
    enrollment_create,
    event_ingest,
    participant_upsert,
)

_DEMO_REFERRERS = [
    ("demo-r-1", "王芳", "wang.fang@demo.test", "+8613800000001"),
    ("demo-r-2", "李雷", "li.lei@demo.test", "+8613800000002"),
    ("demo-r-3", "Emma Stone", "emma@demo.test", "+8613800000003"),
    ("demo-r-4", "张伟", "zhang.wei@demo.test", "+8613800000004"),
]
_DEMO_ATTRIBUTES = {
    "orders_count": 3,
    "phone_verified": True,
    "kyc_verified": True,
    "nps": 9,
    "risk_flag": False,
    "in_arrears": False,
    "refund_in_progress": False,
    "active_users_30d": 8,
    "weekly_active_rate": 0.6,
    "trial_days": 10,
    "members": 5,
    "study_weeks": 4,
    "graduated": False,
    "region": "east-china",
}
# A first purchase that reaches each demo program's paid stage.
_DEMO_PURCHASE = {
    "saas-b2b": (
        168000,
        {"billing_period": "annual", "seats": 10, "offer_choice": "ten_percent_off"},
    ),
    "green-home": (15000, {"first_order": True}),
    "study-together": (198000, {"course_weeks": 12}),
}
# The program that holds a share of its members out (SEMANTICS §10), so the analytics
# overview compares treated and held-out members; the named referrers stay treated.
_HOLDOUT = {"green-home": 10}
# Enrolled customers who buy for themselves: the members the holdout comparison counts.
_MEMBERS = 40


def demo_data_seed(*, tenant) -> dict:
    """Sample referrers, clicks, sign-ups and purchases for each of the tenant's programs, so a
    fresh demo has a funnel to look at. Stable ids: running it again adds nothing."""
    now = clock.now()
    made = {"participants": 0, "events": 0}
    for program in Program.objects.for_tenant(tenant).exclude(status="draft").order_by("pk"):
        codes_by_referrer = []
        for external_id, name, email, phone in _DEMO_REFERRERS:
            participant, created = participant_upsert(
                tenant=tenant,
                external_id=external_id,
                name=name,
                email=email,
                phone=phone,
                attributes=_DEMO_ATTRIBUTES,
                segments=["demo"],
            )
            made["participants"] += int(created)
            codes_by_referrer.append(
                enrollment_create(tenant=tenant, program=program, participant=participant)[1]
            )
        if program.slug in _HOLDOUT:
            program = _holdout_start(
                program,
                _HOLDOUT[program.slug],
                [c.enrollment.participant_id for c in codes_by_referrer],
            )
            made["events"] += _members_seed(tenant, program, now)
        amount, properties = _DEMO_PURCHASE.get(program.slug, (20000, {"first_order": True}))
        for index in range(8):
            referee = f"demo-{program.slug}-friend-{index + 1}"
            signup_id = f"demo-{program.slug}-signup-{index + 1}"
            if Event.objects.for_tenant(tenant).filter(event_id=signup_id).exists():
                continue
            code = codes_by_referrer[index % len(codes_by_referrer)]
            clicked = now - timedelta(days=20 - index * 2, hours=3)
            click_id = identity.new_ulid(int(clicked.timestamp() * 1000))
            entry = code_resolve(code.code)
            if entry is not None:
                click_record(
                    entry=entry,
                    click_id=click_id,
                    source=("wechat", "qr", "link")[index % 3],
                    ip=f"198.51.100.{index + 10}",
                    ua_class="mobile",
                    referer="",
                    utm={},
                    is_bot=False,
                    now=clicked,
                )
            events = [
                _demo_event(
                    signup_id,
                    "signup",
                    referee,
                    clicked + timedelta(hours=1),
                    referral={"click_id": click_id},
                    person={"email": f"friend{index + 1}.{program.slug}@mail{index}.test"},
                )
            ]
            if index % 2 == 0:
                events.append(
                    _demo_event(
                        f"demo-{program.slug}-order-{index + 1}",
                        "purchase",
                        referee,
                        clicked + timedelta(days=1),
                        amount={"amount_minor": amount, "currency": program.currency},
                        order_id=f"demo-{index + 1}",
                        properties=properties,
                    )
                )
            for data, payload in events:
                event, created = event_ingest(tenant=tenant, data=data, payload=payload)
                made["events"] += int(created)
                event_process_by_id(event.pk)
        # One doubtful referral for the review queue: a throwaway address.
        doubtful = [
            _demo_event(
                f"demo-{program.slug}-doubtful-signup",
                "signup",
                f"demo-{program.slug}-doubtful",
                now - timedelta(hours=6),
                referral={"code": codes_by_referrer[0].code},
                person={"email": "deal.hunter@mailinator.com"},
            ),
            _demo_event(
                f"demo-{program.slug}-doubtful-order",
                "purchase",
                f"demo-{program.slug}-doubtful",
                now - timedelta(hours=5),
                amount={"amount_minor": amount, "currency": program.currency},
                order_id="demo-doubtful",
                properties=properties,
            ),
        ]
        for data, payload in doubtful:
            if Event.objects.for_tenant(tenant).filter(event_id=data["event_id"]).exists():
                continue
            event, created = event_ingest(tenant=tenant, data=data, payload=payload)
            made["events"] += int(created)
            event_process_by_id(event.pk)
        for index in range(12):
            # Customers who came on their own: the baseline the KPIs compare against.
            event_id = f"demo-{program.slug}-organic-{index + 1}"
            if not Event.objects.for_tenant(tenant).filter(event_id=event_id).exists():
                data, payload = _demo_event(
                    event_id, "signup", f"demo-organic-{index + 1}", now - timedelta(days=index + 1)
                )
                event, created = event_ingest(tenant=tenant, data=data, payload=payload)
                made["events"] += int(created)
                event_process_by_id(event.pk)
    return made


def _holdout_start(program, percent: int, treated_ids: list[int]):
    """The program with a holdout of `percent` whose seed keeps these participants treated."""
    if (program.spec.get("holdout") or {}).get("percent"):
        return program
    seed = seed_splitting(percent * SCALE // 100, treated=treated_ids, prefix="demo")
    spec = {**program.spec, "holdout": {"percent": percent, "seed": seed}}
    program_update(program=program, spec=spec, actor=None, note="demo holdout")
    return Program.objects.for_tenant(program.tenant_id).get(pk=program.pk)


def _members_seed(tenant, program, now) -> int:
    """Enrolled customers, each with a purchase of their own, some of them held out."""
    made = 0
    for index in range(_MEMBERS):
        event_id = f"demo-{program.slug}-member-{index + 1}-order"
        if Event.objects.for_tenant(tenant).filter(event_id=event_id).exists():
            continue
        external_id = f"demo-member-{index + 1}"
        participant, _created = participant_upsert(tenant=tenant, external_id=external_id)
        enrollment_create(tenant=tenant, program=program, participant=participant)
        amount = 8000 + (index * 3700) % 24000
        data, payload = _demo_event(
            event_id,
            "purchase",
            external_id,
            now - timedelta(days=index % 25 + 1),
            amount={"amount_minor": amount, "currency": program.currency},
            order_id=f"demo-member-{index + 1}",
        )
        event, created = event_ingest(tenant=tenant, data=data, payload=payload)
        made += int(created)
        event_process_by_id(event.pk)
    return made


def _demo_event(
    event_id: str, type_: str, external_id: str, at, *, person: dict | None = None, **extra
) -> tuple[dict, dict]:
    payload = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": external_id, **(person or {})},
        **extra,
    }
    return {**payload, "occurred_at": at}, payload
