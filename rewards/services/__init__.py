"""Every write of the money path. Transitions happen only here, under row locks or
conditional UPDATEs; the ledger is written in the same transaction as the transition
that earns it; webhooks go through the outbox in that transaction too.

By concern: `grants` (the engine's decisions persisted), `fulfilment` (release, coupons,
payouts), `reversals` (refunds, review, rejection, clawbacks, derived items), `choices`
and `points`. Every public name is importable from here, as before the split."""

from .choices import (  # noqa: F401
    donation_allowed,
    reward_choose,
    reward_donate_instead,
)
from .common import (  # noqa: F401
    AMBASSADOR,
    LIVE,
    UNRELEASED,
    WEEKLY_PAYOUT_MAX_MINOR,
    reward_payload,
)
from .fulfilment import (  # noqa: F401
    coupon_pool_upload,
    notifications_opt_out,
    payout_batch_approve,
    payout_batch_mark_paid,
    payout_mark_failed,
    payout_mark_paid,
    payout_request_again,
    referral_notices_batched,
    referral_notify,
    reward_fulfil,
    reward_release,
    reward_settings_update,
)
from .grants import (  # noqa: F401
    later_company_referrals,
    period_rewards_persist,
    referral_rewards_sync,
)
from .points import (  # noqa: F401
    REDEEMABLE_KINDS,
    points_redeem,
)
from .reversals import (  # noqa: F401
    derived_rewards_reverse,
    refund_apply,
    reward_clawback,
    rewards_hold_for_review,
    rewards_reject,
    rewards_release_after_review,
    team_rewards_reverse,
)
