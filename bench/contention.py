"""One tenant under mixed load: events, enrolments and periodic ticks at once.

    python -m bench contention [--seconds 30] [--event-threads 4] [--enrol-threads 2]
                               [--workers 2] [--tick-every 1]

On PostgreSQL (BENCH_DATABASE_URL) with Redis (BENCH_REDIS_URL), gunicorn serving the real
WSGI app and a real Celery worker (`--workers` prefork processes). For `--seconds`, all on
one tenant and one program:
- event threads post, for each new friend, a `signup` with a referrer's code and then a
  `purchase` (`POST /api/v1/events`); the worker processes them: attribution, the friend's
  points credited to the ledger, the referrer's cash reward;
- enrolment threads upsert a new participant and enrol it (`POST /api/v1/participants`,
  `POST /api/v1/programs/<slug>/enrollments`), and enrol again an existing referrer (the
  idempotent path that reads the rows the events are writing);
- a ticker runs every periodic job (`core.periodic.run_all`: release, fulfilment, payouts,
  sweeps) every `--tick-every` seconds in this process.
Printed: server errors (5xx, must be 0), deadlocks PostgreSQL detected in the database
(`pg_stat_database.deadlocks`, every process counted, must be 0), failed events and failed
periodic jobs, and the throughput of each part.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from bench import _common

SLUG = "friends"


def seed(referrers: int) -> tuple[str, list[str]]:
    from programs.services import program_create
    from referral_platform.tenancy.services import api_key_create, tenant_create
    from tracking import services
    from tracking.tests.conftest import make_spec

    tenant = tenant_create(
        name="Bench",
        slug="bench",
        owner_email="bench@bench.test",
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    spec = make_spec(slug=SLUG)
    spec["starts_at"] = "2026-01-01T00:00:00+08:00"
    # No hold: each purchase's rewards are due at once, so every tick releases and fulfils
    # what the events wrote since the last one — the three parts touch the same rows.
    spec["stages"][0]["rewards"] = [
        {"key": "referrer-cash", "side": "referrer", "kind": "cash", "amount": 3000},
        {"key": "referee-points", "side": "referee", "kind": "points", "points": 100},
    ]
    program = program_create(tenant=tenant, spec=spec, actor=None)
    codes = []
    for i in range(referrers):
        referrer, _ = services.participant_upsert(
            tenant=tenant, external_id=f"referrer-{i}", name=f"Referrer {i}"
        )
        codes.append(
            services.enrollment_create(tenant=tenant, program=program, participant=referrer)[1].code
        )
    return api_key_create(tenant=tenant, name="bench")[1], codes


class Client:
    """One keep-alive connection; every answer's status is counted."""

    def __init__(self, port: int, api_key: str, statuses: Counter, lock: threading.Lock):
        self.port, self.statuses, self.lock = port, statuses, lock
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        for attempt in range(2):
            try:
                self.conn.request("POST", path, data, self.headers)
                answer = self.conn.getresponse()
                payload = answer.read()
                break
            except (http.client.HTTPException, OSError):
                # The server closed a kept-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        with self.lock:
            self.statuses[(path.split("/")[3], answer.status)] += 1
        try:
            return answer.status, json.loads(payload or b"{}")
        except ValueError:
            return answer.status, {}


def event_loop(client: Client, codes: list[str], stop: threading.Event, index: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        who = f"friend-{index}-{n}"
        participant = {"external_id": who, "email": f"{who}@example.com"}
        context = {"ip": f"10.{index}.{n // 256 % 256}.{n % 256}"}
        now = datetime.now(timezone.utc).isoformat()
        client.post(
            "/api/v1/events",
            {
                "event_id": f"signup-{who}",
                "type": "signup",
                "occurred_at": now,
                "participant": participant,
                "referral": {"code": codes[(index * 7 + n) % len(codes)]},
                "context": context,
            },
        )
        client.post(
            "/api/v1/events",
            {
                "event_id": f"purchase-{who}",
                "type": "purchase",
                "occurred_at": now,
                "participant": participant,
                "order_id": f"order-{who}",
                "amount": {"amount_minor": 15000, "currency": "CNY"},
                "context": context,
            },
        )


def enrol_loop(client: Client, referrers: int, stop: threading.Event, index: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        who = f"member-{index}-{n}"
        client.post("/api/v1/participants", {"external_id": who, "email": f"{who}@example.com"})
        client.post(f"/api/v1/programs/{SLUG}/enrollments", {"participant": who})
        again = f"referrer-{(index * 13 + n) % referrers}"
        client.post(f"/api/v1/programs/{SLUG}/enrollments", {"participant": again})


def tick_loop(stop: threading.Event, every: float, runs: list[float]) -> None:
    from django.db import connections

    from referral_platform.core import periodic

    try:
        while not stop.is_set():
            started = time.perf_counter()
            periodic.run_all()
            runs.append(time.perf_counter() - started)
            stop.wait(max(0.0, every - (time.perf_counter() - started)))
    finally:
        connections.close_all()


def deadlocks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'processed'), "
            "count(*) FILTER (WHERE status = 'failed') FROM tracking_event"
        )
        events, processed, failed = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM tracking_enrollment")
        enrollments = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'fulfilled') FROM rewards_reward"
        )
        rewards, fulfilled = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM rewards_ledgerentry")
        ledger = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM rewards_payout")
        payouts = cursor.fetchone()[0]
    return {
        "events": events,
        "processed": processed,
        "failed": failed,
        "enrollments": enrollments,
        "rewards": rewards,
        "fulfilled": fulfilled,
        "ledger_entries": ledger,
        "payouts": payouts,
    }


def start_worker(env: dict[str, str], processes: int, log_path) -> subprocess.Popen:
    out = open(log_path, "w")  # noqa: SIM115 - closed with the process by the OS
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "referral_platform", "worker",
         "--concurrency", str(processes), "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=_common.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench contention")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--referrers", type=int, default=50)
    parser.add_argument("--event-threads", type=int, default=4)
    parser.add_argument("--enrol-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tick-every", type=float, default=1.0)
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for the worker")
    args, _unknown = parser.parse_known_args(argv)

    # No mail server here: the notifications the worker sends are kept in memory.
    env = _common.server_env(REDIS_URL=_common.REDIS, EMAIL_URL="memorymail://")
    _common.prepare_database(env)
    _common.django_setup(env)
    import redis

    from referral_platform.core import periodic

    redis.Redis.from_url(_common.REDIS).flushdb()
    api_key, codes = seed(args.referrers)
    print(
        f"one tenant, {args.seconds:.0f} s: {args.event_threads} event threads, "
        f"{args.enrol_threads} enrolment threads, a tick every {args.tick_every:g} s; "
        f"gunicorn 2×4, worker with {args.workers} processes; PostgreSQL and Redis",
        flush=True,
    )
    log_path = _common.ROOT / "test-artifacts" / "bench-contention-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    worker = start_worker({**env, "CELERY_TASK_ALWAYS_EAGER": "false"}, args.workers, log_path)
    statuses: Counter = Counter()
    lock = threading.Lock()
    ticks: list[float] = []
    deadlocks_before = deadlocks()
    failures_before = sum(periodic.FAILURES.values())
    try:
        with _common.Server(env, workers=2) as server:
            stop = threading.Event()

            def client() -> Client:
                return Client(server.port, api_key, statuses, lock)

            # Warm up: each gunicorn worker loads the app on its first request (seconds).
            warm = [client() for _ in range(8)]
            for i, c in enumerate(warm):
                c.post("/api/v1/participants", {"external_id": f"warm-{i}"})
            statuses.clear()
            threads = [
                threading.Thread(target=event_loop, args=(client(), codes, stop, i))
                for i in range(args.event_threads)
            ]
            threads += [
                threading.Thread(target=enrol_loop, args=(client(), args.referrers, stop, i))
                for i in range(args.enrol_threads)
            ]
            threads.append(threading.Thread(target=tick_loop, args=(stop, args.tick_every, ticks)))
            started = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(args.seconds)
            stop.set()
            for t in threads:
                t.join(120)
            loaded = time.perf_counter() - started
            # Let the worker finish what was accepted, then one last tick pays what is due.
            deadline = time.perf_counter() + args.drain
            while time.perf_counter() < deadline:
                now = counts()
                if now["processed"] + now["failed"] >= now["events"]:
                    break
                time.sleep(0.5)
            drained = time.perf_counter() - started
            periodic.run_all()
    finally:
        worker.terminate()
        worker.wait(30)
    result = counts()
    found_deadlocks = deadlocks() - deadlocks_before
    job_failures = sum(periodic.FAILURES.values()) - failures_before
    server_errors = sum(n for (_path, code), n in statuses.items() if code >= 500)
    refused = {f"{p} {c}": n for (p, c), n in sorted(statuses.items()) if 400 <= c < 500}
    by_path = Counter()
    for (path, _code), n in statuses.items():
        by_path[path] += n
    worker_errors = sum(
        1 for line in log_path.read_text().splitlines() if "ERROR" in line or "deadlock" in line
    )
    print(f"server errors (5xx): {server_errors}   refused (4xx): {refused or 0}")
    print(
        f"deadlocks detected by PostgreSQL: {found_deadlocks}   failed events: "
        f"{result['failed']}   failed periodic jobs: {job_failures}   worker log errors: "
        f"{worker_errors}"
    )
    print(
        f"requests in {loaded:.1f} s: {sum(statuses.values()) / loaded:.0f} req/s "
        f"(events {by_path['events'] / loaded:.0f}/s, participants "
        f"{by_path['participants'] / loaded:.0f}/s, enrolments "
        f"{by_path['programs'] / loaded:.0f}/s)"
    )
    mean_tick = sum(ticks) / len(ticks) if ticks else 0.0
    print(
        f"ticks: {len(ticks)}, mean {mean_tick:.2f} s, longest {max(ticks, default=0):.2f} s; "
        f"events processed {result['processed']}/{result['events']} "
        f"({result['processed'] / drained:.0f}/s to the last), enrolments "
        f"{result['enrollments']}, rewards {result['rewards']} "
        f"({result['fulfilled']} fulfilled), ledger entries {result['ledger_entries']}, "
        f"payouts {result['payouts']}",
        flush=True,
    )
    redis.Redis.from_url(_common.REDIS).flushdb()
    return {
        "server_errors": server_errors,
        "deadlocks": found_deadlocks,
        "failed_events": result["failed"],
        "job_failures": job_failures,
        **result,
    }


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
