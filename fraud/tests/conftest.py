"""Rows the fraud tests need, made directly so they do not wait on other apps' services."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from fraud import identity
from programs.models import Program, ProgramStatus, ProgramVersion
from referral_platform.core import clock
from tracking.models import Click, Event, Participant, Referral

_seq = itertools.count(1)


@pytest.fixture
def program(tenant):
    program = Program.unscoped.create(
        tenant=tenant,
        slug="green-home",
        name="Green home",
        status=ProgramStatus.ACTIVE,
        currency="CNY",
    )
    version = ProgramVersion.unscoped.create(
        tenant=tenant, program=program, number=1, spec={"stages": []}
    )
    program.current_version = version
    program.save()
    return program


def participant_make(tenant, *, external_id=None, email="", phone="", attributes=None):
    external_id = external_id or f"p{next(_seq)}"
    return Participant.unscoped.create(
        tenant=tenant,
        external_id=external_id,
        email=email,
        email_hash=identity.email_token(email) if email else "",
        email_domain=identity.email_domain(email),
        phone=phone,
        phone_hash=identity.phone_token(phone) if phone else "",
        attributes=attributes or {},
    )


def event_make(participant, *, type="signup", at=None, context=None, amount_minor=None):
    at = at or clock.now()
    payload = {
        "type": type,
        "participant": {"external_id": participant.external_id},
        "context": context or {},
    }
    return Event.unscoped.create(
        tenant_id=participant.tenant_id,
        event_id=f"e{next(_seq)}",
        type=type,
        occurred_at=at,
        participant=participant,
        external_id=participant.external_id,
        amount_minor=amount_minor,
        currency="CNY" if amount_minor else "",
        payload=payload,
        body_hash="x",
        status="processed",
    )


def referral_make(
    program, referrer, referee, *, at=None, status="pending", click=None, code="CODE1"
):
    at = at or clock.now()
    return Referral.unscoped.create(
        tenant_id=program.tenant_id,
        program=program,
        program_version=program.current_version,
        referrer=referrer,
        referee=referee,
        code=code,
        source="link",
        click_id=click.pk if click else "",
        status=status,
        created_at=at,
        status_changed_at=at,
    )


def click_make(program, *, at, ip="", ua_class="browser", code="CODE1"):
    ip_hash, ip24_hash = identity.ip_tokens(ip) if ip else ("", "")
    return Click.unscoped.create(
        id=f"{next(_seq):026d}",
        tenant_id=program.tenant_id,
        program=program,
        code=code,
        created_at=at,
        ip_hash=ip_hash,
        ip24_hash=ip24_hash,
        ua_class=ua_class,
    )


@pytest.fixture
def make():
    """`make.participant(...)`, `make.event(...)`, `make.referral(...)`, `make.click(...)`."""

    class Make:
        participant = staticmethod(participant_make)
        event = staticmethod(event_make)
        referral = staticmethod(referral_make)
        click = staticmethod(click_make)
        hours = staticmethod(lambda n: timedelta(hours=n))

    return Make
