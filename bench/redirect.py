"""The redirect `/r/<code>` under load beside a bare Django 302 on the same gunicorn.

    python -m bench redirect [--seconds 20] [--concurrency 32]

Runs on PostgreSQL (BENCH_DATABASE_URL, default a fresh `tracking_bench` database) and
prints requests/s, p50 and p99 for: the bare view, the redirect with clicks buffered in
Redis (BENCH_REDIS_URL) and flushed in bulk, and the redirect writing each click directly.
Targets (issue): ≥ 70 % of the bare throughput, p99 ≤ 1.5 × the bare p99.
"""

from __future__ import annotations

import argparse

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
    args, _unknown = parser.parse_known_args(argv)

    buffered_env = _common.server_env(TRACKING_CLICK_BUFFER_URL=_common.REDIS)
    direct_env = _common.server_env()
    _common.prepare_database(direct_env)
    _common.django_setup(buffered_env)
    import redis

    from tracking import clickbuffer

    code = seed()
    redis.Redis.from_url(_common.REDIS).delete(clickbuffer.KEY)
    results = {}
    runs = [
        ("bare 302 view", direct_env, f"/bench/bare/{code}"),
        ("redirect, buffered clicks", buffered_env, f"/r/{code}"),
        ("redirect, direct insert", direct_env, f"/r/{code}"),
    ]
    print(
        f"concurrency {args.concurrency}, {args.seconds:.0f} s each, gunicorn gthread on PostgreSQL"
    )
    for label, env, path in runs:
        before = clicks_written()
        with _common.Server(env) as server:
            _common.load(
                server.port, _common.get_factory, (path, UA), concurrency=2, seconds=2
            )  # warm-up
            result = _common.load(
                server.port,
                _common.get_factory,
                (path, UA),
                concurrency=args.concurrency,
                seconds=args.seconds,
            )
        flushed = clickbuffer.flush() if env is buffered_env else 0
        results[label] = result
        print(
            result.line(label),
            f" clicks stored {clicks_written() - before} (flushed {flushed})",
            flush=True,
        )
    bare = results["bare 302 view"]
    for label in ("redirect, buffered clicks", "redirect, direct insert"):
        r = results[label]
        print(
            f"{label:<28} throughput ratio {r.rps / bare.rps:5.2f} (target ≥ 0.70)  "
            f"p99 ratio {r.percentile(99) / bare.percentile(99):5.2f} (target ≤ 1.50)"
        )
    return results


if __name__ == "__main__":
    main()
