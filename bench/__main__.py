"""Run the benchmarks and print one table (and bench/results/<engine>.json).

Usage: python -m bench [name ...]      BENCH_DATABASE=sqlite|postgresql (default sqlite)
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

from .common import Figure, engine_choice, print_table, write_json

BENCHMARKS = ("kernel",)


async def main(names: list[str]) -> list[Figure]:
    """Run the named benchmarks (all by default) one after another."""
    figures: list[Figure] = []
    for name in names or list(BENCHMARKS):
        module = importlib.import_module(f"bench.{name}")
        figures.extend(await module.run())
    return figures


if __name__ == "__main__":
    results = asyncio.run(main(sys.argv[1:]))
    print(f"engine: {engine_choice()}")
    print_table(results)
    write_json(results, Path(__file__).parent / "results" / f"{engine_choice()}.json")
