"""Events through attribution, stages, fraud and rewards, at the service level."""

from datetime import datetime, timedelta

import time_machine

from demo.data import demo_data_seed
from fraud.models import Assessment
from pipeline import flow
from programs.services import program_create
from referral_platform.core import clock
from tracking import services
from tracking.identity import new_ulid
from tracking.models import Click, Event, EventStatus, Participant, Referral, ReferralStage
from tracking.tests.conftest import make_spec

T0 = datetime.fromisoformat("2026-03-01T10:00:00+00:00")


def send(tenant, event_id, type_, external_id, at=T0, **extra):
    payload = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": external_id, **extra.pop("person", {})},
        **extra,
    }
    data = {**payload, "occurred_at": at}
    event, _ = services.event_ingest(tenant=tenant, data=data, payload=payload)
    assert flow.event_process_by_id(event.pk) == "processed"
    event.refresh_from_db()
    return event


def click(tenant, code, at, source="link"):
    entry = services.code_resolve(code.code)
    click_id = new_ulid()
    services.click_record(
        entry=entry,
        click_id=click_id,
        source=source,
        ip="203.0.113.9",
        ua_class="mobile",
        referer="",
        utm={},
        is_bot=False,
        now=at,
    )
    return click_id


def invite_lead(code, *, name, email, phone, click_id):
    """The invite page's form sent at T0 after `click_id`, and its sign-up processed."""
    with time_machine.travel(T0):
        event = services.lead_signup(
            entry=services.code_resolve(code.code),
            name=name,
            email=email,
            phone=phone,
            locale="en",
            click_ids=[click_id],
            consent=True,
        )
        assert flow.event_process_by_id(event.pk) == "processed"


def referral_of(tenant, external_id):
    return Referral.objects.for_tenant(tenant).get(referee__external_id=external_id)


def test_a_signup_with_a_click_id_29_days_later_is_attributed_and_31_days_is_not(
    tenant, program, alice_code
):
    c1 = click(tenant, alice_code, T0 - timedelta(days=29))
    c2 = click(tenant, alice_code, T0 - timedelta(days=31))
    send(tenant, "s1", "signup", "n1", referral={"click_id": c1})
    send(tenant, "s2", "signup", "n2", referral={"click_id": c2})
    r = referral_of(tenant, "n1")
    assert (r.referrer.external_id, r.source, r.click_id, r.status) == (
        "u-alice",
        "link",
        c1,
        "pending",
    )
    assert r.evidence["winner"]["click_id"] == c1 and r.evidence["rule"]["window_days"] == 30
    assert not Referral.objects.for_tenant(tenant).filter(referee__external_id="n2").exists()
    assert Event.objects.for_tenant(tenant).get(event_id="s2").status == EventStatus.PROCESSED


def test_when_a_code_and_a_click_disagree_the_link_wins_and_both_are_kept(
    tenant, program, alice_code, bob_code
):
    c = click(tenant, alice_code, T0 - timedelta(days=2))
    send(tenant, "s1", "signup", "n1", referral={"click_id": c, "code": bob_code.code})
    r = referral_of(tenant, "n1")
    assert (r.referrer.external_id, r.source) == ("u-alice", "link")
    assert [(loser["code"], loser["why"]) for loser in r.evidence["losers"]] == [
        (bob_code.code, "lower_priority")
    ]
    assert {a["code"] for a in r.evidence["assists"]} == {bob_code.code}


def test_a_qr_scan_and_a_typed_code_rank_equal_so_the_model_picks_the_touch(
    tenant, program, alice_code, bob_code
):
    # Alice's poster was scanned two days before the sign-up that carries Bob's code.
    c = click(tenant, alice_code, T0 - timedelta(days=2), source="qr")
    send(tenant, "s1", "signup", "n1", referral={"click_id": c, "code": bob_code.code})
    last = referral_of(tenant, "n1")
    assert (last.referrer.external_id, last.source, last.code) == ("u-bob", "code", bob_code.code)
    assert [(loser["click_id"], loser["why"]) for loser in last.evidence["losers"]] == [
        (c, "earlier_touch")
    ]
    assert last.evidence["rule"]["priority"] == ["link", ["qr", "code"], "claim", "identity"]

    first_touch = make_spec(slug="first-touch", model="first")
    first_program = program_create(tenant=tenant, spec=first_touch, actor=None)
    bob = bob_code.enrollment.participant
    bob_first = services.enrollment_create(tenant=tenant, program=first_program, participant=bob)
    alice = alice_code.enrollment.participant
    alice_first = services.enrollment_create(
        tenant=tenant, program=first_program, participant=alice
    )
    c2 = click(tenant, alice_first[1], T0 - timedelta(days=2), source="qr")
    send(tenant, "s2", "signup", "n2", referral={"click_id": c2, "code": bob_first[1].code})
    first = Referral.objects.for_tenant(tenant).get(
        program=first_program, referee__external_id="n2"
    )
    assert (first.referrer.external_id, first.source) == ("u-alice", "qr")


def test_one_referral_per_referee_per_program_ever(tenant, program, alice_code, bob_code):
    send(tenant, "s1", "signup", "n1", referral={"code": alice_code.code})
    send(tenant, "s2", "signup", "n1", at=T0 + timedelta(days=1), referral={"code": bob_code.code})
    assert Referral.objects.for_tenant(tenant).filter(referee__external_id="n1").count() == 1
    assert referral_of(tenant, "n1").referrer.external_id == "u-alice"


def test_a_purchase_moves_the_referral_through_the_engine_and_fraud_scores_it(
    tenant, program, alice_code
):
    send(tenant, "s1", "signup", "n1", referral={"code": alice_code.code})
    send(
        tenant,
        "p1",
        "purchase",
        "n1",
        at=T0 + timedelta(days=1),
        amount={"amount_minor": 15000, "currency": "CNY"},
    )
    r = referral_of(tenant, "n1")
    assert r.status == "converted"
    assert r.status_changed_at == T0 + timedelta(days=1)
    assert sorted(
        ReferralStage.objects.for_tenant(tenant)
        .filter(referral=r)
        .values_list("stage_key", flat=True)
    ) == ["paid", "signup"]
    assert sorted(
        Assessment.objects.for_tenant(tenant).filter(referral=r).values_list("stage_key", flat=True)
    ) == ["paid", "signup"]


def test_a_self_referral_under_another_id_is_handed_to_fraud(tenant, program, alice_code):
    send(
        tenant,
        "s1",
        "signup",
        "alice-2nd",
        person={"email": "a.l.i.c.e@shop.test", "phone": "+8613800138000"},
        referral={"code": alice_code.code},
    )
    r = referral_of(tenant, "alice-2nd")
    assert r.evidence["self_referral"] is True
    assessment = Assessment.objects.for_tenant(tenant).get(referral=r, stage_key="signup")
    assert assessment.decision in ("review", "reject")
    assert r.status in ("review", "rejected")


def test_a_claim_after_the_purchase_attributes_the_referral(tenant, program, alice_code):
    send(tenant, "s1", "signup", "n1")
    send(
        tenant,
        "p1",
        "purchase",
        "n1",
        at=T0 + timedelta(days=2),
        amount={"amount_minor": 15000, "currency": "CNY"},
    )
    assert not Referral.objects.for_tenant(tenant).exists()
    with time_machine.travel(T0 + timedelta(days=3)):
        claim = flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n1", referrer_code=alice_code.code
        )
    r = referral_of(tenant, "n1")
    assert (claim.status, claim.referral_id) == ("attributed", r.pk)
    assert (r.referrer.external_id, r.source, r.status) == ("u-alice", "claim", "converted")


def test_a_claim_by_the_referrers_phone_matches_the_enrolled_referrer(tenant, program, alice_code):
    send(tenant, "s1", "signup", "n1")
    with time_machine.travel(T0 + timedelta(hours=1)):
        flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n1", referrer_phone="138 0013 8000"
        )
    assert referral_of(tenant, "n1").referrer.external_id == "u-alice"


def test_a_claim_against_a_claim_attributed_referral_goes_to_review(
    tenant, program, alice_code, bob_code
):
    send(tenant, "s1", "signup", "n1")
    with time_machine.travel(T0 + timedelta(hours=1)):
        flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n1", referrer_code=alice_code.code
        )
    with time_machine.travel(T0 + timedelta(hours=2)):
        second = flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n1", referrer_code=bob_code.code
        )
    assert second.status == "review"
    assert referral_of(tenant, "n1").status == "review"


def test_an_invite_page_lead_merges_into_the_tenants_signup_by_phone(
    tenant, program, alice_code, monkeypatch
):
    c = click(tenant, alice_code, T0 - timedelta(hours=1))
    invite_lead(alice_code, name="Dan", email="", phone="13900139000", click_id=c)
    lead_referral = Referral.objects.for_tenant(tenant).get()
    assert lead_referral.referee.external_id.startswith("lead:")
    reads, real = [], services.event_referrals

    def spy(event):
        found = real(event)
        reads.append([r.referee.external_id for r in found])
        return found

    monkeypatch.setattr(services, "event_referrals", spy)
    send(
        tenant,
        "s1",
        "signup",
        "shop-dan",
        at=T0 + timedelta(days=1),
        person={"phone": "+8613900139000"},
    )
    # "shop-dan" is new, but the lead's referral became its own: read again, and advanced.
    assert reads == [["shop-dan"]]
    lead_referral.refresh_from_db()
    assert lead_referral.referee.external_id == "shop-dan"
    assert lead_referral.referrer.external_id == "u-alice" and lead_referral.click_id == c
    lead = Participant.objects.for_tenant(tenant).get(is_lead=True)
    assert lead.merged_into.external_id == "shop-dan"
    assert Referral.objects.for_tenant(tenant).count() == 1


def test_an_opted_out_participant_is_never_attributed(tenant, program, alice_code):
    person, _ = services.participant_upsert(tenant=tenant, external_id="n1")
    services.participant_opt_out(participant=person)
    send(tenant, "s1", "signup", "n1", referral={"code": alice_code.code})
    assert not Referral.objects.for_tenant(tenant).exists()


def test_non_referred_events_are_stored_as_the_baseline(tenant, program):
    send(tenant, "s1", "signup", "organic")
    event = Event.objects.for_tenant(tenant).get()
    assert event.status == EventStatus.PROCESSED and event.participant.external_id == "organic"
    assert Click.objects.for_tenant(tenant).count() == 0


def test_a_processing_error_is_recorded_and_retried_later(tenant, program, monkeypatch):
    payload = {"event_id": "s1", "type": "signup", "participant": {"external_id": "n1"}}
    event, _ = services.event_ingest(
        tenant=tenant, data={**payload, "occurred_at": T0}, payload=payload
    )
    monkeypatch.setattr(services, "signup_attribute", lambda **kw: 1 / 0)
    assert flow.event_process_by_id(event.pk) == "failed"
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("accepted", 1)
    assert "ZeroDivisionError" in event.error
    monkeypatch.undo()
    assert flow.event_process_by_id(event.pk) == "skipped"  # backing off
    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert flow.event_process_by_id(event.pk) == "processed"


def test_the_demo_data_gives_a_funnel_and_running_it_again_adds_nothing(tenant, program):
    first = demo_data_seed(tenant=tenant)
    assert first == {"participants": 4, "events": 26}
    assert Referral.objects.for_tenant(tenant).count() == 9
    assert Referral.objects.for_tenant(tenant).filter(status="converted").count() == 4
    # A throwaway address waits in the review queue.
    assert list(
        Referral.objects.for_tenant(tenant)
        .filter(status="review")
        .values_list("referee__external_id", flat=True)
    ) == ["demo-friends-doubtful"]
    assert Click.objects.for_tenant(tenant).count() == 8
    assert demo_data_seed(tenant=tenant) == {"participants": 0, "events": 0}
    assert Event.objects.for_tenant(tenant).count() == 26


def test_another_tenants_code_or_click_never_attributes(
    tenant, other_tenant, program, other_program
):
    from tracking.tests.conftest import make_spec  # noqa: F401 - the same spec in both tenants

    stranger, _ = services.participant_upsert(
        tenant=other_tenant, external_id="x-1", name="Stranger"
    )
    foreign_code = services.enrollment_create(
        tenant=other_tenant, program=other_program, participant=stranger
    )[1]
    foreign_click = click(other_tenant, foreign_code, T0 - timedelta(days=1))
    send(
        tenant,
        "s1",
        "signup",
        "n1",
        referral={"code": foreign_code.code, "click_id": foreign_click},
    )
    assert not Referral.objects.for_tenant(tenant).exists()
    assert not Referral.objects.for_tenant(other_tenant).exists()


def test_a_refund_inside_the_hold_returns_the_referral_to_its_previous_status(tenant, alice_code):
    from programs.services import program_update

    program = alice_code.program
    spec = dict(program.spec)
    spec["stages"] = [{**spec["stages"][0], "hold": {"days": 7}}]
    program_update(program=program, spec=spec, actor=None)
    program.refresh_from_db()
    send(tenant, "s1", "signup", "n1", referral={"code": alice_code.code})
    send(
        tenant,
        "p1",
        "purchase",
        "n1",
        at=T0 + timedelta(days=1),
        amount={"amount_minor": 15000, "currency": "CNY"},
        order_id="o1",
    )
    r = referral_of(tenant, "n1")
    assert r.status == "converted"
    paid = ReferralStage.objects.for_tenant(tenant).get(referral=r, stage_key="paid")
    assert paid.due_at == T0 + timedelta(days=8)
    send(
        tenant,
        "r1",
        "refund",
        "n1",
        at=T0 + timedelta(days=3),
        amount={"amount_minor": 15000, "currency": "CNY"},
        order_id="o1",
    )
    r.refresh_from_db()
    paid.refresh_from_db()
    assert r.status == "pending"
    assert paid.reversed_at == T0 + timedelta(days=3) and r.reversed_at == T0 + timedelta(days=3)


def test_a_claim_made_before_the_signup_is_settled_by_it(tenant, program, alice_code, bob_code):
    for name in ("n1", "n2"):  # known from the shop, not signed up to it yet
        services.participant_upsert(tenant=tenant, external_id=name)
    with time_machine.travel(T0 - timedelta(hours=1)):
        alone = flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n1", referrer_code=alice_code.code
        )
        outranked = flow.claim_process(
            tenant=tenant, program=program, referee_external_id="n2", referrer_code=alice_code.code
        )
    assert (alone.status, outranked.status) == ("pending", "pending")
    send(tenant, "s1", "signup", "n1")  # the claim is its only touch
    send(tenant, "s2", "signup", "n2", referral={"code": bob_code.code})
    alone.refresh_from_db()
    outranked.refresh_from_db()
    first, second = referral_of(tenant, "n1"), referral_of(tenant, "n2")
    assert (alone.status, alone.referral_id) == ("attributed", first.pk)
    assert (first.source, first.referrer.external_id) == ("claim", "u-alice")
    # A code outranks a claim (SEMANTICS' default priority): the claim is settled, ignored.
    assert (outranked.status, outranked.referral_id) == ("ignored", second.pk)
    assert (second.source, second.referrer.external_id) == ("code", "u-bob")


def test_an_invite_page_lead_merges_by_email_and_its_audit_says_so(tenant, program, alice_code):
    from referral_platform.core.models import AuditEntry

    c = click(tenant, alice_code, T0 - timedelta(hours=1))
    invite_lead(alice_code, name="Eve", email="eve@example.com", phone="13900139001", click_id=c)
    # The shop's sign-up carries both: the email is the match it names.
    send(
        tenant,
        "s1",
        "signup",
        "shop-eve",
        at=T0 + timedelta(days=1),
        person={"email": "Eve@Example.com", "phone": "+8613900139001"},
    )
    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.referee.external_id, referral.referrer.external_id) == ("shop-eve", "u-alice")
    merged = AuditEntry.objects.for_tenant(tenant).get(action="participant.lead_merged")
    lead = Participant.objects.for_tenant(tenant).get(is_lead=True)
    assert lead.merged_into.external_id == "shop-eve"
    assert merged.data == {"lead": lead.external_id, "matched_by": "email"}
