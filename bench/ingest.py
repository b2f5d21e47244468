"""Event ingestion under load: `POST /api/v1/events` one by one and `/events/batch`.

    python -m bench ingest [--seconds 20] [--concurrency 32] [--batch 500]

On PostgreSQL with a broker configured but no worker (BENCH_REDIS_URL), so what is
measured is acceptance — validate, store, enqueue after commit — not processing.
Targets (issue, 2 cores): ≥ 300 events/s single, ≥ 1,000 events/s through the batch.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

from bench import _common


def seed() -> str:
    from referral_platform.tenancy.services import api_key_create, tenant_create

    tenant = tenant_create(
        name="Bench",
        slug="bench",
        owner_email="bench@bench.test",
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    return api_key_create(tenant=tenant, name="bench")[1]


def _event(event_id: str) -> dict:
    return {
        "event_id": event_id,
        "type": "purchase",
        "occurred_at": "2026-03-03T09:30:00+08:00",
        "participant": {"external_id": f"c-{event_id}", "email": "buyer@example.com"},
        "order_id": event_id,
        "amount": {"amount_minor": 15000, "currency": "CNY"},
        "properties": {"first_order": True},
    }


def single_factory(worker_index: int, api_key: str):
    template = json.dumps(_event("__ID__"))
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    counter = itertools.count()
    run = f"{time.time():.0f}"

    def make(n: int) -> bytes:
        # One counter per process: every request of every connection gets fresh event ids.
        body = template.replace("__ID__", f"s{run}-{worker_index}-{next(counter)}").encode()
        return _common._request_bytes("POST", "/api/v1/events", body, headers)

    return make


def batch_factory(worker_index: int, api_key: str, size: int):
    template = json.dumps({"events": [_event(f"__ID__-{i}") for i in range(size)]})
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    counter = itertools.count()
    run = f"{time.time():.0f}"

    def make(n: int) -> bytes:
        body = template.replace("__ID__", f"b{run}-{worker_index}-{next(counter)}").encode()
        return _common._request_bytes("POST", "/api/v1/events/batch", body, headers)

    return make


def stored() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_event")
        return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench ingest")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch", type=int, default=500)
    args, _unknown = parser.parse_known_args(argv)

    env = _common.server_env(REDIS_URL=_common.REDIS)
    _common.prepare_database(env)
    _common.django_setup(env)
    api_key = seed()
    print(
        f"concurrency {args.concurrency}, {args.seconds:.0f} s each, gunicorn gthread on PostgreSQL"
    )
    results = {}
    with _common.Server(env) as server:
        # Warm up first, as the redirect benchmark does. gunicorn's socket accepts before its
        # workers have booted: measured from a cold start, the first worker up took all the
        # keep-alive connections for the whole run (one process on one core, three idle).
        _common.load(
            server.port, single_factory, (api_key,), concurrency=args.concurrency, seconds=2
        )
        before = stored()
        single = _common.load(
            server.port,
            single_factory,
            (api_key,),
            concurrency=args.concurrency,
            seconds=args.seconds,
        )
        after_single = stored()
        print(
            single.line("POST /events", "events/s"), f" stored {after_single - before}", flush=True
        )
        # Batches are heavy: fewer connections keep the server, not the queue, in the measure.
        batch = _common.load(
            server.port,
            batch_factory,
            (api_key, args.batch),
            concurrency=min(args.concurrency, 8),
            seconds=args.seconds,
        )
        print(
            batch.line(f"POST /events/batch ×{args.batch}", "events/s", per_request=args.batch),
            f" stored {stored() - after_single}",
            flush=True,
        )
    results["single"], results["batch"] = single, batch
    print(
        f"targets: single ≥ 300 events/s ({single.rps:.0f}), batch ≥ 1000 events/s ({batch.rps * args.batch:.0f})"
    )
    import redis

    redis.Redis.from_url(_common.REDIS).flushdb()  # the tasks no worker will ever take
    return results


if __name__ == "__main__":
    main()
