"""Run every measure in a fixed order, print the tables, write docs/benchmarks.md and docs/benchmarks.json.

Usage: python -m tools.bench [--terraform] [--quick] [--markdown PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tools.bench import api_calls, cold_start, environment, fanout, invocation, package_size, terraform
from tools.bench.all_workloads import QUICK_WORKLOADS, WORKLOADS
from tools.bench.report import Report, Section, render_text, write

DOCS = environment.REPO_ROOT / "docs"
QUICK_SIZES = (1, 2)
QUICK_CONNECTIONS = 100


def run(*, quick: bool, with_terraform: bool, previous_json: Path) -> Report:
    """Every measure, numbered in this order in docs/benchmarks.md. ``quick``: tiny inputs (smoke test)."""
    sections: list[Section] = []

    def progress(title: str) -> None:
        print(f"measuring: {title}", file=sys.stderr, flush=True)

    progress("API calls per notification")
    workloads = QUICK_WORKLOADS if quick else WORKLOADS
    sections.append(api_calls.measure(QUICK_SIZES if quick else api_calls.SIZES, workloads))
    progress("cold start")
    sections.append(cold_start.measure(runs=1 if quick else cold_start.RUNS))
    progress("per-invocation work")
    sections.append(
        invocation.measure(QUICK_SIZES, repeats=1, workloads=workloads)
        if quick
        else invocation.measure(invocation.SIZES, workloads=workloads)
    )
    progress("WebSocket fan-out")
    sections.append(fanout.measure(QUICK_CONNECTIONS if quick else fanout.CONNECTIONS))
    progress("package size")
    sections.append(package_size.measure())
    if with_terraform:
        progress("terraform (every example, one after another: minutes)")
        sections.append(terraform.section(terraform.run_examples(), carried_over=False))
    else:
        sections.append(terraform.section(terraform.previous_figures(previous_json), carried_over=True))
    return Report(
        date=datetime.now(UTC).date().isoformat(),
        machine=environment.machine(),
        versions=environment.versions(),
        sections=tuple(sections),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="make bench: measure the toolkit and write docs/benchmarks.md"
    )
    parser.add_argument("--terraform", action="store_true", help="apply every example (slow: ~2 min each)")
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one run each (a smoke run)")
    parser.add_argument("--markdown", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=DOCS / "benchmarks.json")
    args = parser.parse_args(argv)
    report = run(quick=args.quick, with_terraform=args.terraform, previous_json=args.json)
    print(render_text(report))
    write(report, args.markdown, args.json)
    print(f"\nwrote {args.markdown} and {args.json}")
    return 0
