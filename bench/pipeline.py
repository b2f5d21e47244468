"""End-to-end processing: events accepted by the API until their rewards are written.

    python -m bench pipeline [--referrals 2000] [--batch 500] [--workers 2] [--burst]
    python -m bench pipeline --in-process [--referrals 300]   # the cost per event

On PostgreSQL (BENCH_DATABASE_URL) with Redis (BENCH_REDIS_URL) and a real Celery worker
(`--workers` prefork processes). Each referral is a referee's `signup` carrying the
referrer's code and then a `purchase`, posted through `POST /api/v1/events/batch`; the
program pays both sides a cash reward on the purchase. Measured from the database, so it is
what the worker did, not what the client saw: events processed per second (first accepted to
last processed) and, per purchase, the time from its acceptance to its reward row.
Targets: ≥ 1,000 events/s processed on 2 cores, p99 acceptance → reward ≤ 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request

from bench import _common

START = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


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
    spec = make_spec()
    spec["starts_at"] = "2026-01-01T00:00:00+08:00"
    spec["stages"][0]["rewards"] = [
        {"key": "referrer-cash", "side": "referrer", "kind": "cash", "amount": 3000},
        {"key": "referee-cash", "side": "referee", "kind": "cash", "amount": 2000},
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


def batches(codes: list[str], referrals: int, size: int, burst: bool = False):
    """Sign-ups of a chunk, then its purchases: each batch holds one kind, in arrival order.

    By default the referrals are what a healthy program sees, which fraud lets through: a
    referrer's friends sign up about two weeks apart, each from an address of their own, and
    buy an hour later. `burst` sends every sign-up at the same moment, so each referrer's
    friends arrive together and fraud holds or rejects them all (its slower path)."""
    signups, purchases = [], []
    step = dt.timedelta(days=14) / len(codes)
    for i in range(referrals):
        who = {"external_id": f"referee-{i}", "email": f"referee{i}@example.com"}
        signed_up = START if burst else START + i * step
        context = {"ip": f"10.{i // 256 % 256}.{i % 256}.7"}
        signups.append(
            {
                "event_id": f"signup-{i}",
                "type": "signup",
                "occurred_at": signed_up.isoformat(),
                "participant": who,
                "referral": {"code": codes[i % len(codes)]},
                "context": context,
            }
        )
        purchases.append(
            {
                "event_id": f"purchase-{i}",
                "type": "purchase",
                "occurred_at": (signed_up + dt.timedelta(hours=1)).isoformat(),
                "participant": who,
                "order_id": f"order-{i}",
                "amount": {"amount_minor": 15000, "currency": "CNY"},
                "properties": {"first_order": True},
                "context": context,
            }
        )
    for start in range(0, referrals, size):
        yield signups[start : start + size]
        yield purchases[start : start + size]


def post(port: int, api_key: str, events: list[dict]) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        f"http://127.0.0.1:{port}/api/v1/events/batch",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
        results = json.load(answer)["results"]
    refused = [r for r in results if r["status"] != "accepted"]
    if refused:
        raise RuntimeError(f"{len(refused)} events refused, e.g. {refused[0]}")


def progress() -> tuple[int, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'processed') FROM tracking_event"
        )
        total, processed = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM rewards_reward")
        return total, processed, cursor.fetchone()[0]


def statuses() -> str:
    """How fraud and the stages left the referrals: which path the run measured."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM tracking_referral GROUP BY 1 ORDER BY 1")
        return ", ".join(f"{count} {status}" for status, count in cursor.fetchall())


def measured() -> tuple[float, list[float]]:
    """Events processed per second, and each purchase's seconds from acceptance to reward."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), EXTRACT(EPOCH FROM max(processed_at) - min(received_at)) "
            "FROM tracking_event"
        )
        count, seconds = cursor.fetchone()
        cursor.execute(
            """
            SELECT EXTRACT(EPOCH FROM min(r.created_at) - e.received_at)
            FROM tracking_event e
            JOIN tracking_referral ref ON ref.referee_id = e.participant_id
            JOIN rewards_reward r ON r.referral_id = ref.id
            WHERE e.type = 'purchase'
            GROUP BY e.id, e.received_at
            """
        )
        latencies = sorted(float(row[0]) for row in cursor.fetchall())
    return count / float(seconds), latencies


def python_calls(work) -> int:
    """The Python function calls `work()` makes in this thread."""
    calls = 0

    def profile(_frame, event, _arg) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def in_process(codes: list[str], referrals: int, burst: bool) -> dict:
    """The worker's cost per event without the broker, the web server or a second process:
    the same events, accepted as the API accepts them, processed here in chunks as a worker
    processes them. Prints, for the sign-ups and then the purchases, the wall time, this
    process's CPU, the CPU of its PostgreSQL backend (read from /proc: PostgreSQL on this
    machine) and the statements, per event; and, over one chunk of them, the Python function
    calls per event, a count that does not move with what else the machine runs."""
    from django.db import connection

    from pipeline import flow
    from referral_platform.tenancy.models import Tenant
    from tracking import services as tracking
    from tracking.models import Event
    from tracking.services.events import EVENT_CHUNK

    tenant = Tenant.objects.get(slug="bench")
    for chunk in batches(codes, referrals, referrals, burst):
        for payload in chunk:
            data = {**payload, "occurred_at": dt.datetime.fromisoformat(payload["occurred_at"])}
            tracking.event_ingest(tenant=tenant, data=data, payload=payload)

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            fields = open(f"/proc/{cursor.fetchone()[0]}/stat").read().split()  # noqa: SIM115
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    statements = 0

    def count(execute, *args):
        nonlocal statements
        statements += 1
        return execute(*args)

    figures = {}
    for kind in ("signup", "purchase"):
        pks = list(Event.unscoped.filter(type=kind).order_by("pk").values_list("pk", flat=True))
        flow.events_process(pks[:2])  # warm what a running worker holds
        counted, pks = pks[2 : 2 + EVENT_CHUNK], pks[2 + EVENT_CHUNK :]
        calls = python_calls(lambda: flow.events_process(counted)) / len(counted)  # noqa: B023
        statements = 0
        wall, cpu, db = time.perf_counter(), time.process_time(), backend_cpu()
        with connection.execute_wrapper(count):
            for start in range(0, len(pks), EVENT_CHUNK):
                flow.events_process(pks[start : start + EVENT_CHUNK])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        db = backend_cpu() - db
        figures[kind] = per = {
            "wall_ms": wall * 1000 / len(pks),
            "python_cpu_ms": cpu * 1000 / len(pks),
            "postgresql_cpu_ms": db * 1000 / len(pks),
            "statements": statements / len(pks),
            "python_calls": calls,
        }
        print(
            f"{kind}: {per['wall_ms']:.1f} ms an event, {per['python_cpu_ms']:.1f} ms Python "
            f"CPU, {per['postgresql_cpu_ms']:.1f} ms PostgreSQL CPU, "
            f"{per['statements']:.1f} statements, {calls:,.0f} Python calls",
            flush=True,
        )
    print(f"referrals: {statuses()}")
    return figures


def start_worker(env: dict[str, str], processes: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "referral_platform", "worker",
         "--concurrency", str(processes), "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=_common.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench pipeline")
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--referrers", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--burst", action="store_true", help="every sign-up at once: fraud flags them all"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="no broker, server or worker: the cost per event in this process",
    )
    args, _unknown = parser.parse_known_args(argv)

    env = _common.server_env(REDIS_URL=_common.REDIS)
    _common.prepare_database(env)
    _common.django_setup(env)
    import redis

    redis.Redis.from_url(_common.REDIS).flushdb()
    api_key, codes = seed(args.referrers)
    if args.in_process:
        print(f"{args.referrals} referrals ({args.referrals * 2} events) in this process")
        return in_process(codes, args.referrals, args.burst)
    total = args.referrals * 2
    print(
        f"{args.referrals} referrals ({total} events) in batches of {args.batch}, "
        f"worker with {args.workers} processes, PostgreSQL and Redis",
        flush=True,
    )
    worker = start_worker({**env, "CELERY_TASK_ALWAYS_EAGER": "false"}, args.workers)
    try:
        with _common.Server(env, workers=2) as server:
            started = time.perf_counter()
            for chunk in batches(codes, args.referrals, args.batch, args.burst):
                post(server.port, api_key, chunk)
            posted = time.perf_counter() - started
            deadline = time.perf_counter() + args.timeout
            while time.perf_counter() < deadline:
                stored, processed, rewards = progress()
                if processed >= total and rewards >= args.referrals * 2:
                    break
                time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            # Still finishing follow-up tasks (emails, webhooks): the figures are in already.
            worker.kill()
            worker.wait()
    stored, processed, rewards = progress()
    rate, latencies = measured()
    p = _common.Result(0, 0, 1, latencies, {}).percentile
    print(f"accepted {stored} events in {posted:.1f} s ({stored / posted:.0f} events/s)")
    print(f"referrals: {statuses()}")
    print(
        f"processed {processed}/{total} events, {rewards} rewards: {rate:.0f} events/s "
        f"(target ≥ 1000); acceptance → reward p50 {p(50) / 1000:.2f} s, "
        f"p99 {p(99) / 1000:.2f} s (target ≤ 5 s)",
        flush=True,
    )
    redis.Redis.from_url(_common.REDIS).flushdb()
    return {"rate": rate, "latencies": latencies, "processed": processed}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
