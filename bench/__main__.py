"""Run the benchmarks in bench/: every module with a `main()` (or those named on the line).

python -m bench                 # all of them
python -m bench redirect ingest # some of them
python -m bench redirect --seconds 5   # options after the names go to each benchmark
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def discover() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)):
            found[info.name] = module
    return found


def run(argv: list[str]) -> int:
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:split], argv[split:]
    benchmarks = discover()
    unknown = [n for n in names if n not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(sorted(benchmarks))}")
        return 2
    for name in names or sorted(benchmarks):
        print(f"=== {name}", flush=True)
        benchmarks[name].main(options)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
