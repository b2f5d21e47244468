"""What pausing a program does, in one place (the confirmation page says the same):

- links, codes, QR codes and the redirect keep working: a customer's link never breaks;
- a sign-up (or claim) while paused opens no new referral: nothing is attributed, the event
  is processed otherwise;
- a new enrolment answers `eligible: false` with the reason `program_paused`;
- the portal and the invite page say the program is paused and offer nothing to share;
- referrals already in flight keep earning their stages and payouts (nothing stops them).
"""

from __future__ import annotations

PAUSED = "paused"
PAUSED_REASON = "program_paused"


def new_referrals_paused(status: str) -> bool:
    """Whether a program in `status` takes no new referrals or enrolments now (paused);
    everything already running goes on."""
    return status == PAUSED


def enrollment_reasons(status: str, reasons: list[str]) -> list[str]:
    """Why an enrolment answered now cannot refer: `program_paused` first while the program
    is paused (not stored on the enrolment: it holds again as soon as the program resumes)."""
    if new_referrals_paused(status):
        return [PAUSED_REASON, *(r for r in reasons if r != PAUSED_REASON)]
    return list(reasons)
