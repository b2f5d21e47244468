"""`Idempotency-Key` for any POST: the same key and body replay the first answer; another body → 409."""

from __future__ import annotations

import hashlib
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from referral_platform.core.errors import Conflict


def idempotent(handler):
    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return handler(view, request, *args, **kwargs)
        from referral_platform.core.models import IdempotencyRecord

        tenant = request.tenant
        # Read the raw body before DRF parses it, so both see the same bytes.
        body_hash = hashlib.sha256(request._request.body).hexdigest()
        records = IdempotencyRecord.objects.for_tenant(tenant)
        previous = records.filter(key=key[:255], path=request.path[:255]).first()
        if previous is not None:
            return _replay(previous, body_hash)
        response = handler(view, request, *args, **kwargs)
        if response.status_code >= 500:
            return response
        try:
            with transaction.atomic():
                IdempotencyRecord.unscoped.create(
                    tenant=tenant,
                    key=key[:255],
                    path=request.path[:255],
                    body_hash=body_hash,
                    status_code=response.status_code,
                    response_body=response.data,
                )
        except IntegrityError:
            # A concurrent retry stored its answer first: answer as it did.
            return _replay(records.get(key=key[:255], path=request.path[:255]), body_hash)
        return response

    return wrapper


def _replay(record, body_hash: str) -> Response:
    if record.body_hash != body_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different body.", code="idempotency_key_conflict"
        )
    return Response(record.response_body, status=record.status_code)
