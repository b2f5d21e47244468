"""Connectors' periodic work: payouts leave through the tenant's provider after rewards'
sweeps have requested them."""

from __future__ import annotations

from referral_platform.core.periodic import periodic_job


@periodic_job("connectors.payouts", order=40)
def payouts() -> dict:
    from .outbound import payouts_send

    return payouts_send()


@periodic_job("connectors.crm", order=45)
def crm() -> dict:
    from .crm import crm_push

    return crm_push()
