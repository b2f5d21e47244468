"""What the connector tests share: configured connectors, signing as each provider signs,
and a program with a referrer whose code a referred buyer brings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from connectors.services import connector_save
from programs.services import program_create
from tracking import services as tracking_services
from tracking.tests.conftest import make_spec

STRIPE_SECRET = "whsec_test_5f1d2c3b4a"
SHOPIFY_SECRET = "shpss_test_9a8b7c6d5e"
SEGMENT_SECRET = "seg_test_0123456789"


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    """The `Stripe-Signature` header as Stripe documents it: `t=<unix>,v1=<hex HMAC-SHA256
    of "<t>.<body>">`."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def shopify_signature(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def segment_signature(body: bytes, secret: str = SEGMENT_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def dumps(payload: dict) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture
def stripe_connector(tenant):
    return connector_save(tenant=tenant, kind="stripe", secret=STRIPE_SECRET)


@pytest.fixture
def shopify_connector(tenant):
    return connector_save(tenant=tenant, kind="shopify", secret=SHOPIFY_SECRET)


@pytest.fixture
def segment_connector(tenant):
    return connector_save(tenant=tenant, kind="segment", secret=SEGMENT_SECRET)


@pytest.fixture
def program(tenant):
    return program_create(tenant=tenant, spec=make_spec(), actor=None)


@pytest.fixture
def alice_code(tenant, program):
    alice = tracking_services.participant_upsert(
        tenant=tenant, external_id="u-alice", name="Alice", email="alice@shop.test"
    )[0]
    return tracking_services.enrollment_create(tenant=tenant, program=program, participant=alice)[
        1
    ].code


def post_stripe(client, payload: dict, *, secret: str = STRIPE_SECRET, at: int | None = None):
    """POST `payload` to acme's Stripe endpoint, signed as Stripe signs it."""
    body = dumps(payload)
    return client.post(
        "/hooks/stripe/acme",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(body, secret, at),
    )
