"""Connectors' periodic work: payouts leave through the tenant's provider after rewards'
sweeps have requested them."""

from __future__ import annotations


def payouts() -> dict:
    from .outbound import payouts_send

    return payouts_send()


def crm() -> dict:
    from .crm import crm_push

    return crm_push()
