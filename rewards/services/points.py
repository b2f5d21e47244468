"""Points: spending a balance on the program's catalogue."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, ValidationFailed
from referral_platform.core.retry import retry_on_conflict
from referral_platform.webhooks.services import webhook_emit

from .. import ledger, rules
from ..models import (
    LedgerAccount,
    LedgerEntryKind,
    Redemption,
    RewardKind,
)
from .choices import _VALUE_KEYS
from .fulfilment import _coupon_code_issue

# What points can buy: a coupon is issued by the coupon adapter; a perk or a credit is an
# entitlement the tenant honours until `expires_at` (told by the `redemption.created` webhook).
REDEEMABLE_KINDS = (RewardKind.COUPON, RewardKind.PERK, RewardKind.CREDIT)


@retry_on_conflict
def points_redeem(
    *,
    participant,
    program,
    item_key: str,
    actor=None,
    actor_label: str | None = None,
    idempotency_key: str = "",
) -> Redemption:
    """Spend points on an item of `program`'s catalogue. Under the lock of the participant's
    ledger account: check the balance, write the debit, issue the item (a coupon code, or an
    entitlement), all in one transaction. Refused before anything is written when the item
    is unknown or the balance is short. The same `idempotency_key` returns the first
    redemption."""
    item = next((i for i in rules.points_catalogue(program.spec) if i["key"] == item_key), None)
    if item is None:
        msg = _("This program's catalogue has no item %(item)s.") % {"item": item_key}
        raise ValidationFailed(msg, code="unknown_item", fields={"item": [msg]})
    terms = item["reward"]
    if terms.get("kind") not in REDEEMABLE_KINDS:
        msg = _("This item cannot be redeemed.")
        raise ValidationFailed(msg, code="item_not_redeemable", fields={"item": [msg]})
    cost = int(item["points"])
    tenant_id = participant.tenant_id
    account = ledger.participant_account(participant.pk)
    now = clock.now()
    with transaction.atomic():
        # ledger_append locks this same head row, so while we hold it no credit, expiry or
        # second redemption can move the balance between our read and our debit. No head
        # means no entry ever: a zero balance, refused below without writing one.
        head = (
            LedgerAccount.unscoped.select_for_update()
            .filter(tenant_id=tenant_id, account=account)
            .first()
        )
        if idempotency_key:
            previous = Redemption.unscoped.filter(
                tenant_id=tenant_id, participant_id=participant.pk, idempotency_key=idempotency_key
            ).first()
            if previous is not None:
                if (previous.program_id, previous.item_key) != (program.pk, item_key):
                    raise Conflict(
                        _("This key was already used for another redemption."),
                        code="idempotency_key_conflict",
                    )
                return previous
        balance = ledger.balances(tenant_id, account).get("points", 0) if head else 0
        if balance < cost:
            raise Conflict(
                _("Not enough points: this item costs %(cost)s, the balance is %(balance)s.")
                % {"cost": cost, "balance": balance},
                code="insufficient_points",
            )
        entry = ledger.ledger_append(
            tenant_id=tenant_id,
            account=account,
            entry_kind=LedgerEntryKind.REDEMPTION,
            participant_id=participant.pk,
            reward_kind=RewardKind.POINTS,
            points=-cost,
            memo=f"redemption:{item_key}",
        )
        days = terms.get("valid_days") or terms.get("duration_days")
        amount = terms.get("amount")
        redemption = Redemption.unscoped.create(
            tenant_id=tenant_id,
            program=program,
            participant=participant,
            item_key=item_key,
            points=cost,
            kind=terms["kind"],
            amount_minor=amount,
            currency=program.currency if amount is not None else "",
            description=(terms.get("description") or "")[:300],
            details={k: terms[k] for k in _VALUE_KEYS if k in terms},
            expires_at=now + timedelta(days=int(days)) if days else None,
            ledger_entry=entry,
            idempotency_key=idempotency_key[:100],
            created_at=now,
        )
        if redemption.kind == RewardKind.COUPON:
            redemption.code = _coupon_code_issue(
                tenant_id=tenant_id,
                program_id=program.pk,
                rule_key=item_key,
                pattern="",
                assign={"redemption": redemption},
            )
            Redemption.unscoped.filter(pk=redemption.pk).update(code=redemption.code)
        audit_log(
            tenant=participant.tenant,
            actor=actor,
            actor_label=actor_label,
            action="points.redeemed",
            target=redemption,
            data={"program": program.slug, "item": item_key, "points": cost},
        )
        from ..selectors import redemption_to_dict

        webhook_emit(
            tenant=participant.tenant,
            type="redemption.created",
            data={"redemption": redemption_to_dict(redemption)},
        )
    return redemption
