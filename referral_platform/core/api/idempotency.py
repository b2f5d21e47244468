"""`Idempotency-Key` for any POST: the same key and body replay the first answer; another body
→ 409. The key is claimed before the handler runs, so two concurrent retries never both act:
the second is told the first is still in progress (409) and may retry for its answer."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from referral_platform.core import clock
from referral_platform.core.errors import Conflict

# A claim older than this belongs to a request that died before answering: take it over.
ABANDONED_AFTER = timedelta(minutes=5)


def idempotent(handler):
    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return handler(view, request, *args, **kwargs)
        # Read the raw body before DRF parses it, so both see the same bytes.
        body_hash = hashlib.sha256(request._request.body).hexdigest()
        claim = _claim(request.tenant, key[:255], request.path[:255], body_hash)
        if isinstance(claim, Response):
            return claim
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            claim.delete()  # nothing was answered: a retry runs afresh
            raise
        if response.status_code >= 500:
            claim.delete()
            return response
        type(claim).unscoped.filter(pk=claim.pk).update(
            status_code=response.status_code, response_body=response.data
        )
        return response

    return wrapper


def _claim(tenant, key: str, path: str, body_hash: str):
    """The new in-flight record, or the answer for a key already used."""
    from referral_platform.core.models import IdempotencyRecord

    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.unscoped.create(
                    tenant=tenant, key=key, path=path, body_hash=body_hash, status_code=None
                )
        except IntegrityError:
            previous = IdempotencyRecord.unscoped.filter(tenant=tenant, key=key, path=path).first()
        if previous is None:
            continue  # its request failed and let go of the key meanwhile
        if previous.status_code is not None:
            return _replay(previous, body_hash)
        if previous.created_at < clock.now() - ABANDONED_AFTER:
            IdempotencyRecord.unscoped.filter(pk=previous.pk, status_code=None).delete()
            continue
        if previous.body_hash != body_hash:
            raise _different_body()
        break
    raise Conflict(
        "A request with this Idempotency-Key is still in progress; retry shortly.",
        code="idempotency_key_in_progress",
    )


def _different_body() -> Conflict:
    return Conflict(
        "This Idempotency-Key was used with a different body.", code="idempotency_key_conflict"
    )


def _replay(record, body_hash: str) -> Response:
    if record.body_hash != body_hash:
        raise _different_body()
    return Response(record.response_body, status=record.status_code)
