"""Figures the builder's pages show from the apps above programs (tracking's enrolments and
referrals, rewards' rows), which programs may not import: ports that the staff read side
(`backoffice`) fills at start-up (`referral_platform.core.ports`)."""

from __future__ import annotations

from referral_platform.core.ports import Port

# (tenant) -> {"enrolled": {program_id: n}, "referrals": {program_id: n}}: the programs list.
headline_numbers = Port("programs.readside.headline_numbers")

# (program) -> what a pause, an end or a new live version leaves in flight: the rewards not yet
# released (`pending_rewards`, `pending_amount`, `held_rewards`, `held_referrals`) and the
# referrals that may still earn (`referrals`, `by_version` as [(version number, n)]).
in_flight = Port("programs.readside.in_flight")
