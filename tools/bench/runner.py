"""Run every measure in a fixed order, print the tables, write docs/benchmarks.md and docs/benchmarks.json.

Usage: python -m tools.bench [--terraform] [--quick] [--only KEY,...] [--markdown PATH] [--json PATH]

``--only`` re-measures the named sections (``SECTION_KEYS``) and carries every other one over, unchanged, from
the previous run's JSON: e.g. the cold start again on a quiet machine, or after the package changed, without
the half hour of the others. Each section says when it was measured and under what load.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tools.bench import api_calls, cold_start, environment, fanout, invocation, package_size, terraform
from tools.bench.all_workloads import QUICK_WORKLOADS, WORKLOADS
from tools.bench.report import Report, Section, previous_sections, render_text, write

DOCS = environment.REPO_ROOT / "docs"
QUICK_SIZES = (1, 2)
QUICK_CONNECTIONS = 100
SECTION_KEYS = ("api_calls", "cold_start", "invocation", "fanout", "package_size", "terraform")


class MissingSectionError(ValueError):
    """A section not re-measured has no earlier figures to carry over."""


def conditions(started: datetime, load_before: float, load_after: float) -> str:
    """The ``Section.measured`` line: when, and the load around it against the number of cores."""
    cores = environment.machine()["CPU cores (logical)"]

    def load(value: float) -> str:
        return "unknown" if math.isnan(value) else f"{value:.2f}"

    text = (
        f"{started:%Y-%m-%d %H:%M} UTC; 1-minute load average {load(load_before)} before, "
        f"{load(load_after)} after, on {cores} cores"
    )
    busiest = max(load_before, load_after)
    if not math.isnan(busiest) and cores.isdigit() and busiest > int(cores) * 0.75:
        text += " (a busy machine: timings here are inflated; API call counts and sizes are not)"
    return text


def run(
    *,
    quick: bool,
    with_terraform: bool,
    previous_json: Path,
    only: Sequence[str] = SECTION_KEYS,
) -> Report:
    """Every measure in ``only``, numbered in ``SECTION_KEYS`` order in docs/benchmarks.md; the others carried
    over from ``previous_json``. ``quick``: tiny inputs (smoke test)."""
    workloads = QUICK_WORKLOADS if quick else WORKLOADS
    measures: dict[str, tuple[str, Callable[[], Section]]] = {
        "api_calls": (
            "API calls per notification",
            lambda: api_calls.measure(QUICK_SIZES if quick else api_calls.SIZES, workloads),
        ),
        "cold_start": (
            "cold start",
            lambda: cold_start.measure(runs=1 if quick else cold_start.RUNS, instructions=not quick),
        ),
        "invocation": (
            "per-invocation work",
            lambda: (
                invocation.measure(QUICK_SIZES, repeats=1, workloads=workloads)
                if quick
                else invocation.measure(invocation.SIZES, workloads=workloads)
            ),
        ),
        "fanout": (
            "WebSocket fan-out",
            lambda: fanout.measure(QUICK_CONNECTIONS if quick else fanout.CONNECTIONS),
        ),
        "package_size": ("package size", package_size.measure),
        "terraform": (
            "terraform (every example, one after another: minutes)",
            lambda: (
                terraform.section(terraform.run_examples(), carried_over=False)
                if with_terraform
                else terraform.section(terraform.previous_figures(previous_json), carried_over=True)
            ),
        ),
    }
    earlier = previous_sections(previous_json)
    sections: list[Section] = []
    for key in SECTION_KEYS:
        title, measure = measures[key]
        if key not in only:
            if key not in earlier:
                raise MissingSectionError(
                    f"section {key!r} is not re-measured and {previous_json} has no figures of it to carry "
                    "over: include it in --only (or run make bench without --only)"
                )
            sections.append(earlier[key])
            continue
        print(f"measuring: {title}", file=sys.stderr, flush=True)
        started, load_before = datetime.now(UTC), environment.load_average()
        section = measure()
        sections.append(
            replace(section, measured=conditions(started, load_before, environment.load_average()))
        )
    return Report(
        date=datetime.now(UTC).date().isoformat(),
        machine=environment.machine(),
        versions=environment.versions(),
        sections=tuple(sections),
    )


def _keys(text: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    unknown = sorted(set(keys) - set(SECTION_KEYS))
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {unknown}: choose from {', '.join(SECTION_KEYS)}"
        )
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="make bench: measure the toolkit and write docs/benchmarks.md"
    )
    parser.add_argument("--terraform", action="store_true", help="apply every example (slow: ~2 min each)")
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one run each (a smoke run)")
    parser.add_argument(
        "--only",
        type=_keys,
        default=SECTION_KEYS,
        help=f"comma-separated sections to re-measure ({', '.join(SECTION_KEYS)}); the others are carried "
        "over from the previous run's JSON",
    )
    parser.add_argument("--markdown", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=DOCS / "benchmarks.json")
    args = parser.parse_args(argv)
    try:
        report = run(quick=args.quick, with_terraform=args.terraform, previous_json=args.json, only=args.only)
    except MissingSectionError as error:
        parser.error(str(error))
    print(render_text(report))
    write(report, args.markdown, args.json)
    print(f"\nwrote {args.markdown} and {args.json}")
    return 0
