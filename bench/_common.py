"""What the benchmarks share: a PostgreSQL database, a gunicorn server, a load generator.

No wrk here, so the load generator is asyncio on raw sockets (HTTP/1.1 keep-alive) spread
over a few processes: cheap enough per request that the server, not the client, is what is
measured — and the same client measures the bare view, so the ratio is fair.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracking_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"  # noqa: S105 - a throwaway benchmark server


def server_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._settings",
        "DATABASE_URL": PG,
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "API_RATE_LIMIT": "100000000/min",
    }
    env.update(extra)
    return env


def prepare_database(env: dict[str, str]) -> None:
    name = PG.rsplit("/", 1)[1]
    admin = PG.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(
        ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True
    )
    subprocess.run(
        ["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(
        {
            k: v
            for k, v in env.items()
            if k
            in {
                "DJANGO_SETTINGS_MODULE",
                "DATABASE_URL",
                "SECRET_KEY",
                "ALLOWED_HOSTS",
                "PUBLIC_BASE_URL",
                "REDIS_URL",
                "CELERY_TASK_ALWAYS_EAGER",
                "API_RATE_LIMIT",
                "TRACKING_CLICK_BUFFER_URL",
            }
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the same settings for every run: gthread workers keep connections alive."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int | None = None,
        threads: int = 4,
        app: str = "bench._wsgi:application",
    ):
        self.port = free_port()
        self.app = app
        self.env = env
        self.workers = workers or (os.cpu_count() or 1) * 2
        self.threads = threads
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                self.app,
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
                "-k",
                "gthread",
                "--threads",
                str(self.threads),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=sys.stderr,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @classmethod
    def combine(cls, results: list[Result]) -> Result:
        statuses: dict[int, int] = {}
        for r in results:
            for k, v in r.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        return cls(
            requests=sum(r.requests for r in results),
            errors=sum(r.errors for r in results),
            seconds=sum(r.seconds for r in results),
            latencies=[x for r in results for x in r.latencies],
            statuses=statuses,
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def line(self, label: str, unit: str = "req/s", per_request: int = 1) -> str:
        return (
            f"{label:<28} {self.rps * per_request:>9.0f} {unit}  p50 {self.percentile(50):6.2f} ms  "
            f"p99 {self.percentile(99):6.2f} ms  errors {self.errors}  statuses {dict(sorted(self.statuses.items()))}"
        )


def _request_bytes(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(port, make_request, stop_at, latencies, statuses, counters):
    reader = writer = None
    n = 0
    while time.perf_counter() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = make_request(n)
            n += 1
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close, chunked = 0, False, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                # A response without Content-Length (a bare 302) comes chunked over keep-alive.
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            elif length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            counters[0] += 1
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counters[1] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def _worker(args):
    port, factory, factory_args, connections, seconds, worker_index = args
    make = factory(worker_index, *factory_args)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counters = [0, 0]

    async def main():
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(
            *[
                _connection(port, make, stop_at, latencies, statuses, counters)
                for _ in range(connections)
            ]
        )

    asyncio.run(main())
    return counters[0], counters[1], latencies, statuses


def load(
    port: int,
    factory,
    factory_args: tuple = (),
    *,
    concurrency: int = 32,
    seconds: float = 20,
    processes: int = 2,
) -> Result:
    """`factory(worker_index, *factory_args)` returns `make(n) -> request bytes`."""
    per = [
        concurrency // processes + (1 if i < concurrency % processes else 0)
        for i in range(processes)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(
            _worker, [(port, factory, factory_args, per[i], seconds, i) for i in range(processes)]
        )
    elapsed = time.perf_counter() - started
    statuses: dict[int, int] = {}
    for _, _, _, s in parts:
        for k, v in s.items():
            statuses[k] = statuses.get(k, 0) + v
    return Result(
        requests=sum(p[0] for p in parts),
        errors=sum(p[1] for p in parts),
        seconds=min(elapsed, seconds + 0.5),
        latencies=[x for p in parts for x in p[2]],
        statuses=statuses,
    )


def get_factory(worker_index: int, path: str, user_agent: str):
    payload = _request_bytes("GET", path, b"", {"User-Agent": user_agent})
    return lambda n: payload
