import threading

from referral_platform.core import periodic
from referral_platform.core.management.commands.serve import tick_loop


def test_tick_loop_runs_the_periodic_jobs_until_stopped(monkeypatch):
    ran = threading.Event()
    calls = []

    def fake_run_all():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a failing job does not stop the loop")
        ran.set()
        return {}

    monkeypatch.setattr(periodic, "run_all", fake_run_all)
    stop = threading.Event()
    thread = threading.Thread(target=tick_loop, args=(stop, 0.01), daemon=True)
    thread.start()
    assert ran.wait(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and len(calls) >= 2
