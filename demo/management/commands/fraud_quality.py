"""Run labelled synthetic traffic through the real pipeline and print how fraud scored it."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from demo.fraud_traffic import TARGET_FRAUD_WITHOUT_CASH, TARGET_HONEST_REVIEW
from referral_platform.core import clock


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Generate labelled referral traffic, run it through tracking → fraud → rewards, print precision/recall."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--honest", type=int, default=120, help="honest referrers")
        parser.add_argument("--fraud", type=int, default=6, help="referrers per fraud pattern")
        parser.add_argument(
            "--keep", action="store_true", help="keep the generated tenant instead of rolling back"
        )

    def handle(self, *args, seed, honest, fraud, keep, **options):
        from demo.fraud_traffic import generate, measure, run
        from referral_platform.tenancy.scoping import tenant_context
        from referral_platform.tenancy.services import tenant_create

        traffic = generate(seed=seed, now=clock.now(), honest_referrers=honest, fraud_each=fraud)
        result = {}
        try:
            with transaction.atomic():
                tenant = tenant_create(
                    name="Fraud quality",
                    slug=f"fraud-quality-{seed}-{clock.now():%H%M%S}",
                    owner_email=f"quality-{seed}@example.test",
                )
                with tenant_context(tenant):
                    labels = run(tenant=tenant, traffic=traffic)
                    result = measure(tenant=tenant, labels=labels)
                if not keep:
                    raise _Rollback
        except _Rollback:
            pass
        self._print(result)
        ok = (
            result["fraud_without_cash_released"] >= TARGET_FRAUD_WITHOUT_CASH
            and result["honest_flagged"] <= TARGET_HONEST_REVIEW
            and result["fulfilled_before_hold"] == 0
        )
        if not ok:
            self.stderr.write("targets missed")

    def _print(self, r: dict) -> None:
        w = self.stdout.write
        w(f"referrals={r['referrals']} honest={r['honest']} fraudulent={r['fraudulent']}")
        w(f"precision(review+reject)={r['precision']:.3f} recall(review+reject)={r['recall']:.3f}")
        w(
            f"fraud_without_cash_released={r['fraud_without_cash_released']:.3f} (target ≥ {TARGET_FRAUD_WITHOUT_CASH:.2f})"
        )
        w(
            f"honest_held(review+reject)={r['honest_flagged']:.3f} (target ≤ {TARGET_HONEST_REVIEW:.2f}) honest_sent_to_review={r['honest_sent_to_review']:.3f}"
        )
        w(f"fulfilled_before_hold={r['fulfilled_before_hold']} (target 0)")
        for kind, row in r["by_kind"].items():
            w(
                f"  {kind}: n={row['n']} flagged={row['flagged']} cash_released={row['cash_released']}"
            )
