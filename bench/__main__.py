"""Run the benchmarks and print one table (and bench/results/<engine>.json).

Usage: python -m bench [name ...] [--reports N] [--stations M]      BENCH_DATABASE=sqlite|postgresql (default sqlite)
(`--reports` sets how many reports the open311, citizen_report and dashboard benchmarks store;
`--stations` how many monitoring stations the dashboard benchmark stores.)
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

from .common import Figure, engine_choice, print_table, write_json

BENCHMARKS = ("kernel", "open311", "citizen_report", "alarm", "indicator", "dashboard", "ingest")
OPTIONS_WITH_VALUE = frozenset(
    {"--reports", "--stations", "--values", "--import-values", "--devices", "--rate", "--seconds"}
)


def benchmark_names(args: list[str]) -> list[str]:
    """Return the benchmark names of the command line, without the options and their values."""
    names: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("--"):
            names.append(arg)
    return names


async def main(names: list[str]) -> list[Figure]:
    """Run the named benchmarks (all by default) one after another."""
    figures: list[Figure] = []
    for name in names or list(BENCHMARKS):
        module = importlib.import_module(f"bench.{name}")
        figures.extend(await module.run())
    return figures


if __name__ == "__main__":
    results = asyncio.run(main(benchmark_names(sys.argv[1:])))
    print(f"engine: {engine_choice()}")
    print_table(results)
    write_json(results, Path(__file__).parent / "results" / f"{engine_choice()}.json")
