"""Published lottery results: the commitment before the draw, the revealed seed after it and
the winning tickets, enough for a participant to recompute the winners themselves."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import time_machine

from rewards.models import LotteryDraw, Reward

from .conftest import T0, portal_client, tick


def test_the_portal_publishes_each_draw_with_its_commit_reveal_proof(api, busy_shop, tenant):
    for days in (7, 15):
        with time_machine.travel(T0 + timedelta(days=days, hours=2), tick=False):
            tick()
    ticket = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", kind="lottery_ticket", status="fulfilled"
    )
    drawn = LotteryDraw.objects.for_tenant(tenant).get(draw_key="weekly", period_key="2026-W16")
    upcoming = LotteryDraw.objects.for_tenant(tenant).get(draw_key="weekly", period_key="2026-W17")
    assert upcoming.drawn_at is None and drawn.tickets == [str(ticket.pk)]

    with time_machine.travel(T0 + timedelta(days=15, hours=3), tick=False):
        html = portal_client(api, "alice").get("/portal/").content.decode()
    draws = re.findall(r'<details class="draw" data-testid="draw".*?</details>', html, re.S)
    assert len(draws) == 3
    # The next draw: its commitment is public, its seed is not.
    assert "weekly · 2026-W17 · not drawn yet" in draws[0]
    assert upcoming.seed_hash in draws[0] and upcoming.seed not in draws[0]
    # The last draw: the seed revealed, which hashes to the commitment, and the winner list
    # a participant can recompute: tickets sorted by SHA-256(seed:ticket).
    week16 = next(d for d in draws if "2026-W16" in d)
    assert drawn.seed_hash in week16
    assert re.search(r'data-testid="seed">(\w+)<', week16).group(1) == drawn.seed
    assert hashlib.sha256(drawn.seed.encode()).hexdigest() == drawn.seed_hash
    order = sorted(
        drawn.tickets, key=lambda t: (hashlib.sha256(f"{drawn.seed}:{t}".encode()).hexdigest(), t)
    )
    winners = re.findall(r'data-testid="winner">ticket <code>(\w+)</code> · (.*?) ·', week16)
    assert winners == [(order[0], "<strong>You</strong>")]
    assert "1 ticket took part." in week16
