from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Staff pages and reads that compose several apps (tracking, fraud, rewards): the read
    side above the flow (`pipeline`), beside the portal and analytics."""

    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The figures pages of lower apps show from the apps above them
        # (`referral_platform.core.ports`): the builder's (`programs.readside`) from tracking
        # and rewards.
        from fraud import readside as fraud_readside
        from programs import readside as programs_readside
        from referral_platform.tenancy import readside as tenancy_readside
        from rewards import selectors as rewards_selectors
        from tracking import selectors as tracking_selectors

        from . import selectors

        programs_readside.headline_numbers.install(tracking_selectors.programs_headline_numbers)
        programs_readside.in_flight.install(selectors.program_in_flight)
        # The reward money of referrals the fraud policy's backtest weighs (`fraud.readside`).
        fraud_readside.reward_money.install(rewards_selectors.referral_reward_money)
        # The rewards a review case releases or loses (`fraud.readside`).
        fraud_readside.referral_rewards.install(rewards_selectors.referral_reward_rows)
        # The work waiting for a person, on the staff home (`tenancy.readside`).
        tenancy_readside.waiting.install(selectors.staff_waiting)
