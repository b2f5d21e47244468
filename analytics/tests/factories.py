"""Rows made directly (analytics only reads them), and one hand-built data set whose every
figure is worked out by hand in the tests. Every child row inherits its parent's tenant."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from fraud.models import Assessment, ReviewCase
from programs.models import Program, ProgramVersion
from rewards.models import Reward
from tracking.models import Click, Enrollment, Event, Participant, Referral, ReferralStage

_seq = itertools.count(1)

SPEC = {"stages": [], "point_value": {"amount": 5, "per_points": 1}}


def at(day: str, hour: int = 2) -> datetime:
    """A UTC instant; 02:00 UTC is 10:00 in Asia/Shanghai, the same calendar day."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def program(tenant, slug="prog", spec=None) -> Program:
    p = Program.unscoped.create(
        tenant=tenant, slug=slug, name=slug.title(), currency="CNY", status="active"
    )
    v = ProgramVersion.unscoped.create(tenant=tenant, program=p, number=1, spec=spec or SPEC)
    p.current_version = v
    p.save(update_fields=["current_version"])
    return p


def person(tenant, external_id=None, *, region="", segments=None, **kw) -> Participant:
    attributes = {"region": region} if region else {}
    return Participant.unscoped.create(
        tenant=tenant,
        external_id=external_id or f"p{next(_seq)}",
        attributes=attributes,
        segments=segments or [],
        **kw,
    )


def enroll(prog, who, *, when, eligible=True) -> Enrollment:
    e = Enrollment.unscoped.create(
        tenant_id=prog.tenant_id, program=prog, participant=who, eligible=eligible
    )
    Enrollment.unscoped.filter(pk=e.pk).update(created_at=when)
    return e


def event(who, type, when, *, amount=None, order_id="", properties=None) -> Event:
    n = next(_seq)
    return Event.unscoped.create(
        tenant_id=who.tenant_id,
        event_id=f"e{n}",
        type=type,
        occurred_at=when,
        participant=who,
        external_id=who.external_id,
        order_id=order_id,
        amount_minor=amount,
        currency="CNY" if amount is not None else "",
        payload={"type": type, "properties": properties or {}},
        body_hash=f"h{n}",
    )


def click(prog, enrollment, when, *, source="link", is_bot=False, ua_class="browser") -> Click:
    n = next(_seq)
    return Click.unscoped.create(
        id=f"C{n:025d}",
        tenant_id=prog.tenant_id,
        program=prog,
        enrollment=enrollment,
        code="CODE",
        created_at=when,
        source=source,
        is_bot=is_bot,
        ua_class=ua_class,
    )


def referral(prog, referrer, referee, when, *, source="link", click_id="", status="pending"):
    return Referral.unscoped.create(
        tenant_id=prog.tenant_id,
        program=prog,
        program_version=prog.current_version,
        referrer=referrer,
        referee=referee,
        source=source,
        click_id=click_id,
        status=status,
        created_at=when,
        status_changed_at=when,
    )


def stage(ref, key, status_set, when, *, reversed_at=None) -> ReferralStage:
    return ReferralStage.unscoped.create(
        tenant_id=ref.tenant_id,
        referral=ref,
        stage_key=key,
        status_set=status_set,
        occurred_at=when,
        reversed_at=reversed_at,
    )


def reward(ref, *, kind, side="referrer", status="fulfilled", fulfilled_at=None, **kw) -> Reward:
    beneficiary = ref.referrer if side == "referrer" else ref.referee
    return Reward.unscoped.create(
        tenant_id=ref.tenant_id,
        program=ref.program,
        program_version=ref.program.current_version,
        participant=beneficiary,
        referral=ref,
        side=side,
        scope=f"referral:{ref.pk}",
        reason=kw.pop("reason", None) or f"stage:r{next(_seq)}",
        kind=kind,
        currency="CNY" if kw.get("amount_minor") is not None else "",
        status=status,
        fulfilled_at=fulfilled_at,
        **kw,
    )


def assess(ref, decision="approve") -> Assessment:
    return Assessment.unscoped.create(
        tenant_id=ref.tenant_id, referral=ref, stage_key="signup", score=0, decision=decision
    )


class DataSet:
    """The hand-built month (March 2026, tenant in Asia/Shanghai) the KPI tests use."""


def build(tenant) -> DataSet:
    d = DataSet()
    d.prog = prog = program(tenant, "prog")
    d.other = program(tenant, "other")
    d.r1 = r1 = person(tenant, "R1", region="south-china", segments=["vip"])
    d.r2 = r2 = person(tenant, "R2", region="north")
    d.r3 = r3 = person(tenant, "R3", region="south-china")
    d.r4 = r4 = person(tenant, "R4")
    en1 = enroll(prog, r1, when=at("2026-02-20"))
    en2 = enroll(prog, r2, when=at("2026-02-20"))
    enroll(prog, r3, when=at("2026-02-20"))
    enroll(prog, r4, when=at("2026-02-20"), eligible=False)
    d.en1, d.en2 = en1, en2

    # Shares: 2026-02-28 17:00 UTC is 1 March 01:00 in Shanghai (in range);
    # 2026-03-31 16:30 UTC is 1 April 00:30 there (out of range).
    event(r1, "share", datetime.fromisoformat("2026-02-28T17:00:00+00:00"),
          properties={"channel": "wechat"})  # fmt: skip
    event(r1, "share", at("2026-03-02"), properties={"channel": "wechat"})
    event(r2, "share", at("2026-03-03"), properties={"channel": "email"})
    event(r1, "share", datetime.fromisoformat("2026-03-31T16:30:00+00:00"),
          properties={"channel": "wechat"})  # fmt: skip

    c1 = click(prog, en1, at("2026-03-02"), source="wechat")
    click(prog, en1, at("2026-03-02", 3), source="wechat")
    c3 = click(prog, en1, at("2026-03-05"), source="link")
    click(prog, en2, at("2026-03-03"), source="link")
    click(prog, en2, at("2026-03-03", 4), source="link", is_bot=True)
    click(prog, en2, at("2026-03-04"), source="qr", ua_class="bot")
    click(prog, en1, datetime.fromisoformat("2026-02-28T15:00:00+00:00"))  # 28 Feb locally

    d.e1, d.e2, d.e3, d.e4 = (person(tenant, f"E{i}") for i in range(1, 5))
    d.e5, d.e6, d.e7, d.e8, d.e9 = (person(tenant, f"E{i}") for i in range(5, 10))
    d.f1 = f1 = referral(prog, r1, d.e1, at("2026-03-02"), click_id=c1.pk, status="retained")
    stage(f1, "signup", "pending", at("2026-03-02"))
    stage(f1, "mql", "qualified", at("2026-03-04"))
    stage(f1, "paid", "converted", at("2026-03-06"))
    stage(f1, "t90", "retained", at("2026-03-20"))
    d.f2 = f2 = referral(prog, r1, d.e2, at("2026-03-05"), click_id=c3.pk)
    stage(f2, "signup", "pending", at("2026-03-05"))
    stage(f2, "paid", "converted", at("2026-03-08"), reversed_at=at("2026-03-10"))
    d.f3 = f3 = referral(prog, r2, d.e3, at("2026-03-03"), source="code", status="converted")
    stage(f3, "mql", "qualified", at("2026-03-05"))
    stage(f3, "paid", "converted", at("2026-03-07"))
    d.f4 = f4 = referral(prog, r2, d.e4, at("2026-03-04"), source="claim", status="rejected")
    stage(f4, "paid", "converted", at("2026-03-06"))
    local_apr1 = datetime.fromisoformat("2026-03-31T17:00:00+00:00")
    d.f5 = f5 = referral(prog, r1, d.e5, local_apr1, status="converted")
    stage(f5, "paid", "converted", at("2026-04-02"))
    d.f6 = f6 = referral(prog, r2, d.e6, at("2026-02-25"), source="identity", status="converted")
    stage(f6, "paid", "converted", at("2026-03-02"))
    d.f7 = f7 = referral(prog, r2, d.e7, at("2026-02-20"), status="review")
    d.f8 = f8 = referral(prog, r1, d.e8, at("2026-02-21"), status="review")
    d.f9 = f9 = referral(d.other, r1, d.e9, at("2026-03-10"), status="converted")
    stage(f9, "paid", "converted", at("2026-03-11"))
    ReviewCase.unscoped.create(
        tenant=tenant, referral=f7, program=prog, opened_at=at("2026-04-01", 0),
        due_at=at("2026-04-03", 0),
    )  # fmt: skip
    ReviewCase.unscoped.create(
        tenant=tenant, referral=f8, program=prog, opened_at=at("2026-04-04", 12),
        due_at=at("2026-04-06", 12),
    )  # fmt: skip
    for ref, decision in ((f1, "approve"), (f3, "approve"), (f4, "reject")):
        assess(ref, decision)

    reward(f1, kind="cash", amount_minor=5000, fulfilled_at=at("2026-03-14"))
    reward(f1, kind="coupon", side="referee", fulfilled_at=at("2026-03-14"),
           details={"percent_off": 10, "computed_amount": 1200, "max_amount": 3000})  # fmt: skip
    reward(f1, kind="cash", amount_minor=1000, fulfilled_at=at("2026-03-18"))
    reward(f3, kind="points", points=300, fulfilled_at=at("2026-03-15"))
    reward(f3, kind="lottery_ticket", fulfilled_at=at("2026-03-15"))
    reward(f6, kind="credit", status="reversed", fulfilled_at=at("2026-03-16"),
           details={"estimated_value": 2000}, reversed_at=at("2026-03-20"),
           reversed_amount_minor=2000)  # fmt: skip
    reward(f2, kind="cash", amount_minor=5000, status="reversed", reversed_at=at("2026-03-10"))
    reward(f5, kind="cash", amount_minor=5000, fulfilled_at=at("2026-04-02"))
    reward(f3, kind="cash", amount_minor=700, status="approved", due_at=at("2026-03-30"))
    reward(f3, kind="cash", amount_minor=800, status="approved", due_at=at("2026-04-30"))

    # Customers (sign-ups), referred and not.
    event(d.e1, "signup", at("2026-03-02"))
    event(d.e1, "purchase", at("2026-03-06"), amount=10000, order_id="o-e1-1")
    event(d.e1, "purchase", at("2026-05-10"), amount=5000, order_id="o-e1-2")
    event(d.e2, "signup", at("2026-03-05"))
    event(d.e2, "purchase", at("2026-03-08"), amount=8000, order_id="o-e2")
    event(d.e2, "refund", at("2026-03-10"), amount=8000, order_id="o-e2")
    event(d.e3, "signup", at("2026-03-03"))
    event(d.e3, "purchase", at("2026-03-07"), amount=20000, order_id="o-e3-1",
          properties={"billing_period": "monthly"})  # fmt: skip
    event(d.e3, "purchase", at("2026-04-07"), amount=20000, order_id="o-e3-2",
          properties={"billing_period": "monthly"})  # fmt: skip
    event(d.e3, "activity", at("2026-05-10"), properties={"kind": "login"})
    event(d.e4, "signup", at("2026-03-04"))
    event(d.e4, "purchase", at("2026-03-06"), amount=9900, order_id="o-e4")
    event(d.e5, "signup", local_apr1)
    event(d.e6, "signup", at("2026-02-25"))
    event(d.e6, "purchase", at("2026-03-02"), amount=5000, order_id="o-e6")
    d.b1, d.b2, d.b3, d.b4 = (person(tenant, f"B{i}") for i in range(1, 5))
    event(d.b1, "signup", at("2026-03-10"))
    event(d.b1, "purchase", at("2026-03-12"), amount=6000, order_id="o-b1-1")
    event(d.b1, "purchase", at("2026-04-01"), amount=6000, order_id="o-b1-2")
    event(d.b1, "activity", at("2026-05-20"), properties={"kind": "login"})
    event(d.b2, "signup", at("2026-03-15"))
    event(d.b3, "signup", at("2026-03-20"))
    event(d.b3, "purchase", at("2026-03-21"), amount=4000, order_id="o-b3")
    event(d.b3, "refund", at("2026-03-22"), amount=1000, order_id="o-b3")
    event(d.b4, "signup", datetime.fromisoformat("2026-03-31T18:00:00+00:00"))
    return d


def later(when: datetime, **kw) -> datetime:
    return when + timedelta(**kw)
