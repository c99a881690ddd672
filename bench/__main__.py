"""Run the benchmarks: every module of this package with a `run()` (or only those named).

    python -m bench                  # all of them (`make bench`)
    python -m bench course_sync      # just one
    python -m bench load             # the load benchmark (PostgreSQL, gunicorn; bench/README.md)

Each `run()` records its figures (see bench.record) and returns messages for figures over
budget; the exit code is 1 when there are any.
"""

import importlib
import pkgutil
import sys

import bench

HELPERS = {"scale", "server"}  # modules that are not benchmarks: the load benchmark's data, gunicorn


def benchmark_names() -> list[str]:
    modules = pkgutil.iter_modules(bench.__path__)
    return sorted(module.name for module in modules if not module.name.startswith("_") and module.name not in HELPERS)


def main(names: list[str]) -> int:
    unknown = set(names) - set(benchmark_names())
    if unknown:
        print(
            f"unknown benchmark: {', '.join(sorted(unknown))} (there are: {', '.join(benchmark_names())})",
            file=sys.stderr,
        )
        return 2
    over_budget = []
    for name in names or benchmark_names():
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "run"):
            over_budget += module.run()
    for message in over_budget:
        print(f"over budget: {message}", file=sys.stderr)
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
