"""`retry_on_conflict`: a transaction PostgreSQL aborted as a deadlock victim or a
serialization failure runs again, a bounded number of times, counted for /metrics."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from referral_platform.core import retry
from referral_platform.core.metrics import render_metrics


class _PgError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


def _conflict(code="40P01") -> OperationalError:
    exc = OperationalError("deadlock detected")
    exc.__cause__ = _PgError(code)
    return exc


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(retry, "retries", retry.Counter())
    monkeypatch.setattr(retry, "BACKOFF", 0)


def test_a_deadlock_victim_runs_again_and_the_retry_is_counted():
    calls = []

    @retry.retry_on_conflict(op="test.work")
    def work():
        calls.append(1)
        if len(calls) < 3:
            raise _conflict("40P01" if len(calls) == 1 else "40001")
        return "done"

    assert work() == "done"
    assert len(calls) == 3
    assert retry.retries == {("test.work", "retried"): 2}
    assert (
        'referral_platform_db_conflict_retries_total{op="test.work",outcome="retried"} 2'
        in render_metrics()
    )


def test_it_gives_up_after_the_bound_and_other_errors_are_not_retried():
    calls = []

    @retry.retry_on_conflict(attempts=3, op="test.stuck")
    def stuck():
        calls.append(1)
        raise _conflict()

    with pytest.raises(OperationalError):
        stuck()
    assert len(calls) == 3
    assert retry.retries == {("test.stuck", "retried"): 2, ("test.stuck", "gave_up"): 1}

    @retry.retry_on_conflict
    def broken():
        calls.append(2)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        broken()
    assert calls.count(2) == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_conflict_goes_up_to_the_outermost_call():
    # pytest-django wraps the test in a transaction: an abort there poisons the caller's
    # work as well, so only the outermost decorated call may run it again.
    calls = []

    @retry.retry_on_conflict
    def inner():
        calls.append(1)
        raise _conflict()

    with pytest.raises(OperationalError):
        inner()
    assert calls == [1]
    assert retry.retries == {}
