"""Emails to participants: the referrer hears of a new referral, an approved or fulfilled
reward and a waiting choice; the referee of their welcome reward. In the participant's
language, with an unsubscribe link that works; nothing for the opted-out or erased."""

import re
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import translation

from pipeline.flow import referral_rewards_sync
from programs.services import program_create
from rewards.models import NotificationOptOut, Payout, Reward
from rewards.notifications import (
    notification_send,
    referral_notification_send,
    unsubscribe_token_read,
)
from rewards.periodic import choice_nudges
from rewards.services import payout_mark_paid
from rewards.tests import factories as f
from tracking.models import Participant, Referral
from tracking.services import (
    enrollment_create,
    participant_erase,
    participant_opt_out,
    participant_upsert,
)

T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")  # a Monday, 10:00 in Shanghai
DUE = T0 + timedelta(hours=1, days=7)  # the purchase an hour later, then a 7-day hold
FOOTER = "--\nTo stop these emails, open: http://127.0.0.1:8000/app/rewards/unsubscribe/"


def _text_and_link_holder(email) -> tuple[str, tuple[int, int] | None]:
    """The email's text above the footer, and whom its unsubscribe link names."""
    text, _, token = email.body.partition(FOOTER)
    return text, unsubscribe_token_read(token.strip().rstrip("/"))


SPEC = {
    "spec_version": 1,
    "slug": "friends",
    "name": "Friends",
    "status": "active",
    "starts_at": "2026-01-01T00:00:00+08:00",
    "currency": "CNY",
    "stages": [
        {
            "key": "joined",
            "label": "Sign-up",
            "status": None,
            "condition": {"event": "signup"},
            "rewards": [
                {
                    "key": "welcome",
                    "side": "referee",
                    "kind": "coupon",
                    "amount": 2000,
                    "min_spend": 9900,
                    "valid_days": 7,
                    "description": "¥20 off orders over ¥99",
                }
            ],
        },
        {
            "key": "paid",
            "label": "First order",
            "status": "converted",
            "success": True,
            "condition": {"event": "purchase", "min_amount": 9900},
            "hold": {"days": 7},
            "rewards": [
                {"key": "thanks", "side": "referrer", "kind": "cash", "amount": 5000},
                {"key": "miles", "side": "referrer", "kind": "points", "points": 300},
            ],
        },
    ],
}


@pytest.fixture
def program(tenant):
    return program_create(tenant=tenant, spec=SPEC, actor=None)


@pytest.fixture
def ann_code(tenant, program):
    ann, _ = participant_upsert(
        tenant=tenant, external_id="ann", name="Ann", email="ann@ann.example"
    )
    return enrollment_create(tenant=tenant, program=program, participant=ann)[1].code


def _event(api, event_id, type_, at, **extra):
    body = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": "ben", "email": "ben@ben.example"},
        **extra,
    }
    assert api.post("/api/v1/events", body, format="json").status_code == 202


def _tick(at):
    with time_machine.travel(at, tick=False):
        call_command("tick", stdout=StringIO())


def _sent() -> list[tuple[str, str]]:
    return [(m.to[0], m.subject) for m in mail.outbox]


def test_the_referrer_and_the_referee_each_hear_what_concerns_them(
    tenant, api, ann_code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
            _event(api, "ben-signup", "signup", T0, referral={"code": ann_code})
        _tick(T0 + timedelta(minutes=10))
    assert _sent() == [
        ("ann@ann.example", "A friend joined through your invitation"),
        ("ben@ben.example", "Your welcome reward"),
    ]
    joined, welcome = mail.outbox
    ann, ben = (Participant.objects.for_tenant(tenant).get(external_id=x) for x in ("ann", "ben"))
    assert _text_and_link_holder(joined) == (
        "Hello Ann,\n\n"
        "Your friend b***@ben.example joined Friends through your invitation. "
        "We will write again when your reward is approved.\n\n",
        (tenant.pk, ann.pk),
    )
    code = Reward.objects.for_tenant(tenant).get(reason="stage:welcome").details["code"]
    assert _text_and_link_holder(welcome) == (
        "Hello,\n\n"
        "Welcome! Your friend's invitation to Friends earned you ¥20 off.\n"
        f"Your code: {code}\n\n"
        "¥20 off orders over ¥99\n\n",
        (tenant.pk, ben.pk),
    )

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(T0 + timedelta(hours=1, minutes=5), tick=False):
            _event(
                api,
                "ben-buy",
                "purchase",
                T0 + timedelta(hours=1),
                order_id="o-1",
                amount={"amount_minor": 12000, "currency": "CNY"},
            )
        _tick(T0 + timedelta(days=1))
    assert mail.outbox == []  # nothing while the hold runs

    with django_capture_on_commit_callbacks(execute=True):
        _tick(DUE + timedelta(minutes=1))
    assert sorted(_sent()) == [
        ("ann@ann.example", "Your reward is approved"),
        ("ann@ann.example", "Your reward is approved"),
        ("ann@ann.example", "Your reward is ready"),
    ]
    bodies = sorted(m.body.split("\n\n")[1] for m in mail.outbox)
    assert bodies == [
        "Your reward (300 points) from Friends is approved.",
        "Your reward (300 points) from Friends is ready.",
        "Your reward (¥50 cash) from Friends is approved.",
    ]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_paid(payout=Payout.objects.for_tenant(tenant).get())
    assert _sent() == [("ann@ann.example", "Your reward is ready")]
    assert mail.outbox[0].body.split("\n\n")[1] == "Your reward (¥50 cash) from Friends is ready."


def test_a_waiting_choice_is_announced_once_with_the_default(
    tenant, engine, django_capture_on_commit_callbacks
):
    prog = f.program(tenant)
    referrer = f.participant(tenant, email="cai@cai.example", name="Cai")
    ref = f.referral(tenant, prog, referrer=referrer)
    engine.answer = lambda facts: [
        f.decision(
            referrer,
            f"referral:{ref.pk}",
            "choice",
            kind="points",
            points=250,
            due_at=DUE,
            options=(
                {"key": "points", "kind": "points", "points": 250},
                {"key": "coupon", "kind": "coupon", "amount": 2500},
            ),
            choice_deadline=DUE + timedelta(days=7),
            hold_reason="choice",
        )
    ]
    referral_rewards_sync(referral=ref)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert choice_nudges() == 1
        assert choice_nudges() == 0
    assert _sent() == [("cai@cai.example", "Choose your reward")]
    assert mail.outbox[0].body.split("\n\n")[1] == (
        "You can choose how to receive your reward from Prog. "
        "If you do not choose, we will give you: 250 points."
    )


def _approved_reward(tenant, **participant) -> Reward:
    prog = f.program(tenant)
    referrer = f.participant(tenant, **participant)
    ref = f.referral(tenant, prog, referrer=referrer)
    return Reward.unscoped.create(
        tenant=tenant,
        program=prog,
        participant=referrer,
        referral=ref,
        side="referrer",
        scope=f"referral:{ref.pk}",
        reason="stage:paid-points",
        rule_key="paid-points",
        kind="points",
        points=300,
        status="approved",
    )


def test_a_participant_reads_it_in_their_language(tenant):
    with translation.override("zh-hans"):
        if translation.gettext("Hello,") == "Hello,":
            pytest.skip("the Chinese catalogue does not translate the greeting yet")
        subject = translation.gettext("Your reward is approved")
        line = translation.gettext("Your reward (%(value)s) from %(program)s is approved.") % {
            "value": translation.ngettext("%(n)d point", "%(n)d points", 300) % {"n": 300},
            "program": "Prog",
        }
    reward = _approved_reward(tenant, email="dai@dai.example", locale="zh-hans")
    assert notification_send(reward_id=reward.pk, event="approved") is True
    (email,) = mail.outbox
    greeting, text, _footer = email.body.split("\n\n", 2)
    assert (greeting, text, email.subject) == ("你好，", line, subject)
    assert "300 积分" in text
    assert translation.get_language() == "en"  # the switch does not leak


def test_unsubscribing_stops_every_further_email(tenant, client):
    reward = _approved_reward(tenant, email="eve@eve.example")
    assert notification_send(reward_id=reward.pk, event="approved") is True
    url = re.search(r"http://127\.0\.0\.1:8000(/\S+/)", mail.outbox[0].body).group(1)

    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop receiving emails about your rewards?" in page.content
    assert not NotificationOptOut.objects.for_tenant(tenant).exists()
    done = client.post(url)
    assert done.status_code == 200 and b"You will no longer receive reward emails." in done.content
    assert list(
        NotificationOptOut.objects.for_tenant(tenant).values_list("participant", flat=True)
    ) == [reward.participant_id]

    mail.outbox.clear()
    assert notification_send(reward_id=reward.pk, event="fulfilled") is False
    referral = Referral.objects.for_tenant(tenant).get(pk=reward.referral_id)
    assert referral_notification_send(referral_id=referral.pk) is False
    assert mail.outbox == []
    assert client.get(url.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404


@pytest.mark.parametrize("leaves", ["opts_out", "is_erased"])
def test_an_opted_out_or_erased_participant_gets_nothing(tenant, leaves):
    reward = _approved_reward(tenant, email="fay@fay.example")
    participant = Participant.objects.for_tenant(tenant).get(pk=reward.participant_id)
    if leaves == "opts_out":
        participant_opt_out(participant=participant)
    else:
        participant_erase(participant=participant)
    assert notification_send(reward_id=reward.pk, event="approved") is False
    assert referral_notification_send(referral_id=reward.referral_id) is False
    assert mail.outbox == []


def test_each_side_gets_only_its_own_kind_of_email(tenant):
    reward = _approved_reward(tenant, email="gus@gus.example")
    assert notification_send(reward_id=reward.pk, event="welcome") is False
    Reward.unscoped.filter(pk=reward.pk).update(side="referee")
    assert notification_send(reward_id=reward.pk, event="approved") is False
    assert notification_send(reward_id=reward.pk, event="welcome") is True
    assert _sent() == [("gus@gus.example", "Your welcome reward")]
