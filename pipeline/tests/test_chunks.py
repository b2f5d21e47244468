"""A batch becomes small tasks; one participant's events stay together and in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from pipeline import flow
from rewards.models import Reward
from tracking import services as tracking
from tracking.models import Event
from tracking.services.events import event_chunks

from .test_flow import T0, cash_program, referrer_code  # noqa: F401 - fixtures
from .test_queries import bench_program, pair  # noqa: F401 - fixture


def rows(*spec):
    return [
        Event(pk=pk, external_id=who, occurred_at=T0 + timedelta(minutes=minute))
        for pk, who, minute in spec
    ]


def test_a_batch_is_cut_into_chunks_keeping_each_participants_events_in_order():
    batch = rows(
        (1, "a", 5), (2, "b", 0), (3, "a", 1), (4, "c", 2), (5, "d", 3), (6, "b", 9), (7, "e", 4)
    )  # fmt: skip
    assert event_chunks(batch, size=3) == [[2, 6], [3, 1, 4], [5, 7]]
    # Same time: arrival order. A participant with more events than a chunk stays whole.
    assert event_chunks(rows((9, "a", 0), (8, "a", 0), (7, "a", 0)), size=2) == [[7, 8, 9]]
    assert event_chunks([], size=3) == []


@pytest.mark.django_db(transaction=True)
def test_the_batch_api_enqueues_tasks_of_at_most_the_chunk_size(api, tenant, monkeypatch, settings):
    from pipeline.tasks import events_process_task

    sent = []
    monkeypatch.setattr(events_process_task, "delay", lambda *args: sent.append(args))
    monkeypatch.setattr("tracking.services.events.EVENT_CHUNK", 4)
    events = []
    for i in range(5):
        who = {"external_id": f"p{i}"}
        events.append({"event_id": f"s{i}", "type": "signup", "participant": who,
                       "occurred_at": T0.isoformat()})  # fmt: skip
        events.append({"event_id": f"b{i}", "type": "purchase", "participant": who,
                       "order_id": f"o{i}", "occurred_at": (T0 + timedelta(hours=1)).isoformat(),
                       "amount": {"amount_minor": 100, "currency": "CNY"}})  # fmt: skip
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.status_code in (200, 202, 207)
    ids = {r["index"]: r["id"] for r in response.json()["results"]}
    assert [len(chunk) for _, chunk in sent] == [4, 4, 2]
    assert {tenant_id for tenant_id, _ in sent} == {tenant.pk}
    # Each participant's sign-up comes right before their purchase, in the same task.
    assert [chunk for _, chunk in sent] == [
        [ids[0], ids[1], ids[2], ids[3]],
        [ids[4], ids[5], ids[6], ids[7]],
        [ids[8], ids[9]],
    ]


def test_a_purchase_processed_before_the_referral_exists_is_paid_once_it_is_created(
    tenant,
    referrer_code,  # noqa: F811
):
    def ingest(event_id, type_, at, **extra):
        payload = {"event_id": event_id, "type": type_, "occurred_at": at.isoformat(),
                   "participant": {"external_id": "bo", "email": "bo@mail.test"}, **extra}  # fmt: skip
        return tracking.event_ingest(tenant=tenant, data={**payload, "occurred_at": at},
                                     payload=payload)[0]  # fmt: skip

    signup = ingest("s", "signup", T0, referral={"code": referrer_code.code})
    purchase = ingest("b", "purchase", T0 + timedelta(minutes=30), order_id="o1",
                      amount={"amount_minor": 15000, "currency": "CNY"})  # fmt: skip
    # Another task took the purchase first: nobody referred Bo yet, so nothing is paid.
    assert flow.event_process_by_id(purchase.pk) == "processed"
    assert not Reward.unscoped.filter(tenant=tenant).exists()
    assert flow.event_process_by_id(signup.pk) == "processed"
    reward = Reward.unscoped.get(tenant=tenant)
    assert (reward.side, reward.amount_minor, reward.rule_key) == ("referrer", 5000, "paid_cash")
    assert reward.referral.referee.external_id == "bo"


def _signups(tenant, code, names):
    events = []
    for name in names:
        payload = {"event_id": f"s-{name}", "type": "signup", "occurred_at": T0.isoformat(),
                   "participant": {"external_id": name}, "referral": {"code": code}}  # fmt: skip
        events.append(
            tracking.event_ingest(
                tenant=tenant, data={**payload, "occurred_at": T0}, payload=payload
            )[0]  # fmt: skip
        )
    return events


def test_in_a_chunk_an_event_that_raises_is_rolled_back_alone_and_the_others_commit(
    tenant,
    referrer_code,  # noqa: F811
    monkeypatch,
):
    from tracking.models import Referral

    events = _signups(tenant, referrer_code.code, ["ann", "bad", "cy"])
    real = tracking.signup_attribute

    def attribute(*, event, participant, referee_new):
        referrals = real(event=event, participant=participant, referee_new=referee_new)  # undone
        if participant.external_id == "bad":
            raise RuntimeError("boom")
        return referrals

    monkeypatch.setattr(flow.tracking, "signup_attribute", attribute)
    outcome = flow.events_process([e.pk for e in events])
    assert outcome == {"processed": 2, "failed": 1, "skipped": 0}
    by_id = {e.external_id: e for e in Event.unscoped.filter(tenant=tenant)}
    assert (by_id["ann"].status, by_id["cy"].status) == ("processed", "processed")
    bad = by_id["bad"]
    assert (bad.status, bad.attempts, bad.participant_id) == ("accepted", 1, None)
    assert "RuntimeError: boom" in bad.error
    referees = set(
        Referral.unscoped.filter(tenant=tenant).values_list("referee__external_id", flat=True)
    )
    assert referees == {"ann", "cy"}
    # Its claim backs off; the others are not taken again.
    assert flow.events_process([e.pk for e in events]) == {
        "processed": 0, "failed": 0, "skipped": 3,
    }  # fmt: skip


def test_a_lock_conflict_commits_what_is_done_and_goes_on_in_a_new_transaction(
    tenant,
    referrer_code,  # noqa: F811
    monkeypatch,
):
    from django.db import OperationalError

    events = _signups(tenant, referrer_code.code, ["ann", "bo", "cy"])
    real = flow._event_process
    conflicts = []

    def process(event, **options):
        if event.external_id == "bo" and not conflicts:
            conflicts.append(event.pk)
            raise OperationalError("deadlock detected")
        return real(event, **options)

    monkeypatch.setattr(flow, "_event_process", process)
    assert flow.events_process([e.pk for e in events]) == {
        "processed": 3, "failed": 0, "skipped": 0,
    }  # fmt: skip
    assert conflicts == [events[1].pk]
    assert set(Event.unscoped.filter(tenant=tenant).values_list("status", flat=True)) == {
        "processed"
    }
    assert not Event.unscoped.filter(tenant=tenant, attempts__gt=0).exists()


def test_a_claim_is_a_lease_that_its_heartbeat_keeps_and_that_lapses_without_it(
    tenant,
    referrer_code,  # noqa: F811
):
    from referral_platform.core import clock

    first, second = _signups(tenant, referrer_code.code, ["ann", "bo"])
    assert tracking.events_claim([first.pk, second.pk]) == [first.pk, second.pk]
    assert tracking.events_claim([first.pk, second.pk]) == []  # held
    later = clock.now() + timedelta(seconds=tracking.CLAIM_SECONDS - 5)
    with time_machine.travel(later):
        assert tracking.events_claim_refresh([first.pk]) == 1  # a beat: 30 s more
    with time_machine.travel(later + timedelta(seconds=10)):
        # The beaten claim holds; the other lapsed: a dead worker's event is free again.
        assert tracking.events_claim([first.pk, second.pk]) == [second.pk]
    with time_machine.travel(later + timedelta(seconds=tracking.CLAIM_SECONDS + 1)):
        assert tracking.events_claim([first.pk]) == [first.pk]


def test_the_heartbeat_beats_while_the_chunk_runs_and_stops_after(monkeypatch):
    import time

    beats = []
    monkeypatch.setattr(flow.tracking, "events_claim_refresh", lambda pks: beats.append(pks))
    with flow.claims_heartbeat([7, 8], every=0.02):
        deadline = time.monotonic() + 5
        while len(beats) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    after = len(beats)
    time.sleep(0.1)
    assert after >= 3 and len(beats) == after
    assert beats[0] == [7, 8]


def test_staff_changes_between_chunks_reach_the_next_chunk(tenant, bench_program):  # noqa: F811
    """A chunk reads the blocklist, the fraud policy and the webhook endpoints once
    (`referral_platform.core.memo`); what staff change before the next chunk applies to it."""
    from fraud import identity
    from fraud.models import BlockedIdentifier, FraudPolicy
    from referral_platform.webhooks.models import WebhookEndpoint, WebhookMessage
    from tracking.models import Referral

    referrer, _ = tracking.participant_upsert(tenant=tenant, external_id="referrer-0")
    code = tracking.enrollment_create(tenant=tenant, program=bench_program, participant=referrer)[1]

    def signed_up(i):
        signup, _purchase = pair(tenant, code.code, i)
        assert flow.events_process([signup.pk])["processed"] == 1
        return Referral.unscoped.get(referee__external_id=f"referee-{i}").status

    assert signed_up(1) == "pending"
    assert not WebhookMessage.unscoped.filter(tenant=tenant).exists()
    WebhookEndpoint.unscoped.create(tenant=tenant, url="https://hooks.example.com/", secret="s")
    BlockedIdentifier.unscoped.create(
        tenant=tenant, kind="email", value_hash=identity.email_token("referee2@example.com")
    )
    assert signed_up(2) == "rejected"
    created = WebhookMessage.unscoped.filter(tenant=tenant, type="referral.created")
    assert [m.data["referee"] for m in created] == ["referee-2"]
    # Everything to review: a threshold of 0 holds even a clean sign-up.
    FraudPolicy.unscoped.create(tenant=tenant, review_threshold=0, reject_threshold=100)
    assert signed_up(3) == "review"


def test_a_chunk_undone_for_one_bad_event_announces_each_good_referral_once(
    tenant,
    referrer_code,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from referral_platform.core import tasks as core_tasks
    from tracking.models import Referral

    events = _signups(tenant, referrer_code.code, ["ann", "bad", "cy"])
    real = tracking.signup_attribute
    passes = []

    def attribute(*, event, participant, referee_new):
        passes.append(participant.external_id)
        if participant.external_id == "bad":
            raise RuntimeError("boom")
        return real(event=event, participant=participant, referee_new=referee_new)

    sent = []
    monkeypatch.setattr(flow.tracking, "signup_attribute", attribute)
    monkeypatch.setattr(core_tasks, "publish", lambda task, *args: sent.append((task.name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = flow.events_process([e.pk for e in events])
    assert outcome == {"processed": 2, "failed": 1, "skipped": 0}
    # The chunk ran as a whole up to "bad", was undone, and ran again a savepoint each.
    assert passes == ["ann", "bad", "ann", "bad", "cy"]
    referrals = Referral.unscoped.filter(tenant=tenant).order_by("pk")
    assert [r.referee.external_id for r in referrals] == ["ann", "cy"]
    # What waited for the commit is what the second pass left: one email each.
    notified = [args for name, args in sent if name == "rewards.notify_referral"]
    assert notified == [(tenant.pk, r.pk) for r in referrals]


def test_a_chunk_sends_its_referrers_emails_by_one_task_after_its_commit(
    tenant,
    referrer_code,  # noqa: F811
    monkeypatch,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from referral_platform.core import tasks as core_tasks
    from tracking.models import Referral

    real = core_tasks.publish
    sent = []

    def publish(task, *args):
        sent.append((task.name, args))
        real(task, *args)

    monkeypatch.setattr(core_tasks, "publish", publish)
    events = _signups(tenant, referrer_code.code, ["bo", "cy", "di"])
    with django_capture_on_commit_callbacks(execute=True):
        assert flow.events_process([e.pk for e in events])["processed"] == 3
    referrals = list(
        Referral.unscoped.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)
    )
    assert [s for s in sent if s[0].startswith("rewards.notify")] == [
        ("rewards.notify_referrals", (tenant.pk, referrals))
    ]
    assert [m.to for m in mailoutbox] == [["ann@shop.test"]] * 3


def test_one_referrers_email_failing_does_not_stop_the_others(
    tenant,
    referrer_code,  # noqa: F811
    monkeypatch,
    mailoutbox,
):
    from rewards import notifications
    from tracking.models import Referral

    for name in ("bo", "cy"):
        event = _signups(tenant, referrer_code.code, [name])[0]
        assert flow.event_process_by_id(event.pk) == "processed"
    first, second = Referral.unscoped.filter(tenant=tenant).order_by("pk")
    mailoutbox.clear()
    real = notifications.referral_notification_send

    def flaky(*, referral_id):
        if referral_id == first.pk:
            raise ConnectionError("SMTP refused")
        return real(referral_id=referral_id)

    monkeypatch.setattr(notifications, "referral_notification_send", flaky)
    with pytest.raises(RuntimeError, match=str(first.pk)):
        notifications.referral_notifications_send(referral_ids=[first.pk, second.pk])
    assert len(mailoutbox) == 1
