"""The embedded default: the dev server plus a loop that runs the periodic jobs.

`manage.py serve [addr:port]` is `runserver` (it does not migrate; `make run` does that
first) with a background thread calling `periodic.run_all()` every TICK_SECONDS (30 by
default), so time-based stages advance with no Redis, worker or beat.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.core.management.commands.runserver import Command as RunserverCommand
from django.db import close_old_connections

logger = logging.getLogger("referral_platform.serve")


def tick_loop(stop: threading.Event, interval: float) -> None:
    from referral_platform.core.periodic import run_all

    while not stop.wait(interval):
        close_old_connections()
        try:
            run_all()
        except Exception:  # noqa: BLE001 - one failing job must not stop the loop for good
            logger.exception("periodic jobs failed; retrying in %ss", interval)
        finally:
            close_old_connections()


class Command(RunserverCommand):
    help = "runserver plus an in-process loop running the periodic jobs every TICK_SECONDS."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--tick-seconds",
            type=float,
            default=float(os.environ.get("TICK_SECONDS", "30")),
            help="seconds between runs of the periodic jobs (default: TICK_SECONDS or 30)",
        )
        parser.add_argument("--no-tick", action="store_true", help="do not run periodic jobs")

    def handle(self, *args, **options):
        self.tick_seconds = options["tick_seconds"]
        self.no_tick = options["no_tick"]
        super().handle(*args, **options)

    def inner_run(self, *args, **options):
        # With the autoreloader this runs in the child process, once per reload.
        if not self.no_tick and not getattr(self, "_tick_started", False):
            self._tick_started = True
            stop = threading.Event()
            thread = threading.Thread(
                target=tick_loop, args=(stop, self.tick_seconds), name="tick", daemon=True
            )
            thread.start()
        host = f"[{self.addr}]" if self._raw_ipv6 else self.addr
        base = f"http://{host}:{self.port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Staff app:  {base}/app/   (login at {base}/accounts/login/)",
                    f"API:        {base}/api/v1/   docs {base}/api/v1/docs/",
                    f"Health:     {base}/healthz   metrics {base}/metrics",
                    f"Periodic jobs run every {self.tick_seconds:g}s in this process."
                    if not self.no_tick
                    else "Periodic jobs are off (--no-tick).",
                    f"Emails are printed here ({settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}).",
                    "",
                ]
            )
        )
        super().inner_run(*args, **options)
