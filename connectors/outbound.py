"""Sending approved cash payouts through the tenant's payout provider and reconciling what
the provider says into rewards' payouts (`paid`, or `failed` with the reason). The amount is
rewards' payout amount, as rewards computed it; the payout's id is the idempotency key of
every attempt, so a retry after a timeout pays once."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict
from rewards import services as rewards_services
from rewards.models import BatchStatus, Payout, PayoutStatus

from .models import PayoutKind, PayoutProvider, PayoutTransfer, TransferStatus
from .payouts import Result, adapter_for

CLAIM = timedelta(minutes=5)
# A payout the provider may have accepted is never given up on: only the wait grows.
MAX_DELAY = timedelta(hours=1)
POLL_EVERY = timedelta(minutes=10)


def payout_key(payout: Payout) -> str:
    return f"payout-{payout.pk}"


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    base = min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_DELAY)
    return base + timedelta(seconds=(rng or random).uniform(0, 10))


@transaction.atomic
def payout_provider_save(
    *,
    tenant,
    kind: str,
    api_key: str = "",
    client_id: str = "",
    client_secret: str = "",
    live: bool = False,
    actor=None,
    ip_address: str | None = None,
) -> PayoutProvider:
    """Blank credentials keep the stored ones."""
    provider, _ = PayoutProvider.objects.for_tenant(tenant).get_or_create(tenant=tenant)
    provider.kind, provider.live = kind, live
    for name, value in (
        ("api_key", api_key),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ):
        if value.strip():
            setattr(provider, name, value.strip())
    provider.save()
    audit_log(
        tenant=tenant,
        actor=actor,
        action="payout_provider.saved",
        target=provider,
        data={"kind": kind, "live": live},
        ip_address=ip_address,
    )
    return provider


def transfers_open(*, limit: int = 500) -> int:
    """A transfer for each requested payout that may leave: the tenant pays through a
    provider, and the payout's batch is approved (every payout waits in a batch)."""
    providers = {
        p.tenant_id: p
        for p in PayoutProvider.unscoped.exclude(kind=PayoutKind.CSV).select_related("tenant")
    }
    if not providers:
        return 0
    now = clock.now()
    due = (
        Payout.unscoped.filter(tenant_id__in=providers, status=PayoutStatus.REQUESTED)
        .filter(batch__status=BatchStatus.APPROVED)
        .exclude(pk__in=PayoutTransfer.unscoped.values("payout_id"))
        .order_by("pk")[:limit]
    )
    rows = [
        PayoutTransfer(
            tenant_id=p.tenant_id,
            payout=p,
            provider=providers[p.tenant_id].kind,
            idempotency_key=payout_key(p),
            next_attempt_at=now,
            created_at=now,
        )
        for p in due
    ]
    # The payout is unique per transfer: a concurrent sweep's row wins, ours is skipped.
    PayoutTransfer.unscoped.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _claim(transfer_id: int, now) -> bool:
    return bool(
        PayoutTransfer.unscoped.filter(pk=transfer_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + CLAIM)
    )


def transfer_attempt(*, transfer_id: int, rng: random.Random | None = None) -> str:
    """Send (or poll) one transfer and apply the answer. Safe to run twice: a claim by
    conditional UPDATE, and the same idempotency key on every send."""
    now = clock.now()
    if not _claim(transfer_id, now):
        return "busy"
    transfer = PayoutTransfer.unscoped.select_related("payout__reward__participant").get(
        pk=transfer_id
    )
    if transfer.status in (TransferStatus.PAID, TransferStatus.FAILED):
        return transfer.status
    payout = transfer.payout
    provider = PayoutProvider.unscoped.get(tenant_id=transfer.tenant_id)
    adapter = adapter_for(provider)
    if transfer.status == TransferStatus.PENDING:
        result = adapter.poll(key=transfer.idempotency_key, ref=transfer.provider_ref)
    elif payout.amount_minor <= 0:
        # Wholly kept back against a clawback (net cash): nothing to send, and providers
        # refuse a zero transfer; settled as paid, as a ¥0.00 payout is by hand.
        result = Result("paid", ref="net-zero")
    else:
        destination = adapter.destination(payout.reward.participant)
        if not destination:
            result = Result("failed", reason="The participant has no payout account on file.")
        else:
            result = adapter.send(
                key=transfer.idempotency_key,
                amount_minor=payout.amount_minor,
                currency=payout.currency,
                destination=destination,
                note=payout.reward.description or "Referral reward",
            )
    return _apply(transfer, result, rng)


def _apply(transfer: PayoutTransfer, result: Result, rng) -> str:
    now = clock.now()
    fields = {"locked_until": None, "attempts": transfer.attempts + 1}
    if result.ref:
        fields["provider_ref"] = result.ref[:200]
    if result.status == "retry":
        fields.update(
            last_error=result.reason[:500],
            next_attempt_at=now + retry_delay(transfer.attempts + 1, rng),
        )
        PayoutTransfer.unscoped.filter(pk=transfer.pk).update(**fields)
        return "retry"
    if result.status == "pending":
        fields.update(
            status=TransferStatus.PENDING, last_error="", next_attempt_at=now + POLL_EVERY
        )
        PayoutTransfer.unscoped.filter(pk=transfer.pk).update(**fields)
        return "pending"
    with transaction.atomic():
        payout = Payout.unscoped.get(pk=transfer.payout_id)
        try:
            if result.status == "paid":
                rewards_services.payout_mark_paid(payout=payout, external_ref=result.ref)
            else:
                rewards_services.payout_mark_failed(payout=payout, reason=result.reason)
        except Conflict:
            pass  # settled by hand meanwhile: what the provider says is still recorded
        fields.update(
            status=TransferStatus.PAID if result.status == "paid" else TransferStatus.FAILED,
            last_error=result.reason[:500],
            next_attempt_at=None,
        )
        PayoutTransfer.unscoped.filter(pk=transfer.pk).update(**fields)
    return result.status


def transfers_due(*, limit: int = 200) -> list[int]:
    now = clock.now()
    return list(
        PayoutTransfer.unscoped.filter(
            status__in=[TransferStatus.SENDING, TransferStatus.PENDING], next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def payouts_send() -> dict:
    opened = transfers_open()
    outcomes: dict[str, int] = {}
    for transfer_id in transfers_due():
        outcome = transfer_attempt(transfer_id=transfer_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"opened": opened, **outcomes}
