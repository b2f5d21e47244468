"""The redirect `/r/<code>` under load beside a separate bare Django project, same gunicorn.

    python -m bench redirect [--seconds 20] [--concurrency 32]

Runs on PostgreSQL (BENCH_DATABASE_URL, default a fresh `tracking_bench` database) and
prints requests/s, p50 and p99 for: the bare project (`bench/_bare.py`: one view answering
302, no middleware, no database), the product as production ships it (production settings,
the production WSGI entry point, clicks buffered in Redis (BENCH_REDIS_URL) and flushed in
bulk) and the product writing each click directly (the embedded default's click path).
Targets: ≥ 0.70 × the bare throughput, p99 ≤ 1.5 × the bare p99.
"""

from __future__ import annotations

import argparse
import time

from bench import _common

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def seed() -> str:
    from programs.services import program_create
    from referral_platform.tenancy.services import tenant_create
    from tracking import services
    from tracking.tests.conftest import make_spec

    tenant = tenant_create(
        name="Bench",
        slug="bench",
        owner_email="bench@bench.test",
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    program = program_create(tenant=tenant, spec=make_spec(), actor=None)
    referrer, _ = services.participant_upsert(
        tenant=tenant, external_id="bench-referrer", name="Bench"
    )
    return services.enrollment_create(tenant=tenant, program=program, participant=referrer)[1].code


def clicks_written() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_click")
        return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench redirect")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    args, _unknown = parser.parse_known_args(argv)

    # Production as compose ships it: Redis for the cache and the click buffer.
    buffered_env = _common.server_env(
        REDIS_URL=_common.REDIS, TRACKING_CLICK_BUFFER_URL=_common.REDIS
    )
    direct_env = _common.server_env()
    _common.prepare_database(direct_env)
    _common.django_setup(buffered_env)
    import redis

    from tracking import clickbuffer

    code = seed()
    redis.Redis.from_url(_common.REDIS).delete(clickbuffer.KEY)
    runs = [
        ("bare Django project", "bare", f"/r/{code}"),
        ("redirect, buffered clicks", "buffered", f"/r/{code}"),
        ("redirect, direct insert", "direct", f"/r/{code}"),
    ]
    # Rounds alternate the variants so a noisy neighbour hurts them all alike.
    slice_seconds = args.seconds / args.rounds
    print(
        f"concurrency {args.concurrency}, {args.seconds:.0f} s each in {args.rounds} alternating rounds, "
        "gunicorn gthread, production settings on PostgreSQL and Redis"
    )
    parts: dict[str, list] = {label: [] for label, _, _ in runs}
    stored = {label: 0 for label, _, _ in runs}
    bare_env = {**_common.server_env(), "DJANGO_SETTINGS_MODULE": "bench._bare"}
    with (
        _common.Server(bare_env, app="bench._bare:application") as bare_server,
        _common.Server(direct_env) as direct,
        _common.Server(buffered_env) as buffered,
    ):
        servers = {"bare": bare_server, "direct": direct, "buffered": buffered}
        for _label, which, path in runs:  # warm-up
            _common.load(
                servers[which].port, _common.get_factory, (path, UA), concurrency=2, seconds=1
            )
        clickbuffer.flush()
        for _round in range(args.rounds):
            for label, which, path in runs:
                before = clicks_written()
                parts[label].append(
                    _common.load(
                        servers[which].port,
                        _common.get_factory,
                        (path, UA),
                        concurrency=args.concurrency,
                        seconds=slice_seconds,
                    )
                )
                if which == "buffered":
                    time.sleep(1)  # let each worker's shipper hand its last batch to Redis
                    clickbuffer.flush()
                stored[label] += clicks_written() - before
    results = {label: _common.Result.combine(chunks) for label, chunks in parts.items()}
    for label, _, _ in runs:
        print(results[label].line(label), f" clicks stored {stored[label]}", flush=True)
    bare = results["bare Django project"]
    for label in ("redirect, buffered clicks", "redirect, direct insert"):
        r = results[label]
        print(
            f"{label:<28} throughput ratio {r.rps / bare.rps:5.2f} (target ≥ 0.70)  "
            f"p99 ratio {r.percentile(99) / bare.percentile(99):5.2f} (target ≤ 1.50)"
        )
    return results


if __name__ == "__main__":
    main()
