"""What the staff home shows from the apps above tenancy, which it may not import: a port
that the staff read side (`backoffice`) fills at start-up (`referral_platform.core.ports`)."""

from __future__ import annotations

from referral_platform.core.ports import Port

# (tenant) -> the work waiting for a person: `review` {cases, oldest}; payout batches to
# `approve` and to `pay`, each {batches, totals: [(currency, amount_minor)]}; and `failed`
# payouts to request again {payouts, totals}.
waiting = Port("referral_platform.tenancy.readside.waiting")
