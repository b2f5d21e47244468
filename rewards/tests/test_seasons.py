"""The season-close sweep closes only seasons the program ran: the periods that overlap its
life `[starts_at, ends_at)`."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from programs.services import program_create
from programs.templates_data.saas_b2b import saas_b2b_spec
from rewards.models import PeriodClose
from rewards.rules import period_in_program
from rewards.sweeps import seasons_close

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year, month, day, hour=0):
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


Q2 = (local(2026, 4, 1), local(2026, 7, 1))


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "overlaps"),
    [
        (None, None, True),
        (local(2026, 5, 10), None, True),  # started inside the period
        (local(2026, 7, 1), None, False),  # starts the moment the period ends
        (local(2026, 7, 2), None, False),
        (None, local(2026, 4, 1), False),  # ended the moment the period began
        (None, local(2026, 4, 1, 1), True),
        (local(2026, 1, 1), local(2026, 3, 1), False),
        (local(2026, 1, 1), local(2027, 1, 1), True),
    ],
)
def test_a_period_belongs_to_the_program_when_it_overlaps_its_life(starts_at, ends_at, overlaps):
    start, end = Q2
    assert period_in_program(start=start, end=end, starts_at=starts_at, ends_at=ends_at) is overlaps


def _closes(tenant):
    return list(
        PeriodClose.objects.for_tenant(tenant)
        .filter(kind="season")
        .order_by("period_key")
        .values_list("period_key", "result")
    )


def test_only_the_quarters_of_the_programs_life_are_closed(tenant):
    spec = saas_b2b_spec(2026)
    spec["status"] = "active"
    spec["starts_at"] = local(2026, 5, 10).isoformat()
    spec["ends_at"] = local(2026, 8, 15).isoformat()
    program_create(tenant=tenant, spec=spec, actor=None)

    # Days after the start: the previous quarter, Q1, ended before the program began.
    assert seasons_close(now=local(2026, 5, 12, 10)) == 0
    assert _closes(tenant) == []
    # Its first quarter and the quarter it ended in are closed (nobody ranked: no prizes).
    seasons_close(now=local(2026, 7, 1, 10))
    seasons_close(now=local(2026, 10, 1, 10))
    # The quarter after its end was never run.
    seasons_close(now=local(2027, 1, 1, 10))
    assert _closes(tenant) == [("2026-Q2", []), ("2026-Q3", [])]


def test_an_ended_programs_last_season_is_still_closed(tenant):
    from programs.models import Program

    spec = saas_b2b_spec(2026)
    spec["status"] = "active"
    spec["starts_at"] = local(2026, 1, 1).isoformat()
    spec["ends_at"] = local(2026, 5, 15).isoformat()
    program = program_create(tenant=tenant, spec=spec, actor=None)
    Program.objects.for_tenant(tenant).filter(pk=program.pk).update(status="ended")

    seasons_close(now=local(2026, 7, 1, 10))
    assert _closes(tenant) == [("2026-Q2", [])]
    # Long after its end it no longer takes part in the sweeps at all.
    seasons_close(now=local(2027, 10, 1, 10))
    assert _closes(tenant) == [("2026-Q2", [])]
