"""What fraud's pages show from rewards, which fraud may not import (fraud and rewards never
import each other): ports the staff read side (`backoffice`) fills at start-up
(`referral_platform.core.ports`)."""

from __future__ import annotations

from referral_platform.core.ports import Port

# (*, tenant, referral_ids) -> {referral_id: {currency: amount_minor}}: the reward money of
# each referral, which the policy backtest weighs.
reward_money = Port("fraud.readside.reward_money")

# (*, referral) -> rewards.selectors.ReferralRewards: the referral's rewards and the cash not
# yet paid, which the review case shows beside the decision that releases or loses them.
referral_rewards = Port("fraud.readside.referral_rewards")
