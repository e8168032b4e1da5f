"""Read checkov's JSON reports (one per scanned directory) and fail unless every scan is clean.

    python tools/ci/checkov_summary.py build/checkov/modules.json build/checkov/examples.json

checkov itself exits non-zero on a failed check but not on a file it could not parse: such a file is left
out of the scan (its variables lose their defaults, its resources go unchecked) while the run still looks
green. This gate also fails on any parsing error and on a scan that found no resource at all, and prints
the passed/failed/skipped counts of each directory and their total.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COUNTS = ("passed", "failed", "skipped", "parsing_errors", "resource_count")


def summaries(report: Any) -> list[dict[str, Any]]:
    """checkov writes one object per framework, or a list of them."""
    reports = report if isinstance(report, list) else [report]
    return [r["summary"] for r in reports if isinstance(r, dict) and "summary" in r]


def problems(name: str, summary: dict[str, int]) -> list[str]:
    found = []
    if summary["failed"]:
        found.append(f"{name}: {summary['failed']} failed check(s)")
    if summary["parsing_errors"]:
        found.append(
            f"{name}: {summary['parsing_errors']} file(s) checkov could not parse"
            " (run checkov without --quiet to see them)"
        )
    if not summary["resource_count"]:
        found.append(f"{name}: no resource scanned")
    return found


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    total = dict.fromkeys(COUNTS, 0)
    errors: list[str] = []
    for path in argv:
        name = Path(path).stem
        found = summaries(json.loads(Path(path).read_text()))
        if not found:
            errors.append(f"{name}: no checkov summary in {path}")
            continue
        summary = {key: sum(int(s.get(key, 0)) for s in found) for key in COUNTS}
        for key in COUNTS:
            total[key] += summary[key]
        errors += problems(name, summary)
        print(
            f"checkov {name}: passed={summary['passed']} failed={summary['failed']} "
            f"skipped={summary['skipped']} parsing_errors={summary['parsing_errors']} "
            f"resources={summary['resource_count']}"
        )
    print(
        f"checkov total: passed={total['passed']} failed={total['failed']} skipped={total['skipped']} "
        f"parsing_errors={total['parsing_errors']} (every skip is listed in SECURITY.md)"
    )
    for error in errors:
        print(f"checkov gate: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
