"""Measure 2: import time each handler adds to a cold start beyond ``import boto3``.

Runs ``tools/measure_cold_start.py``'s measurement: every handler module found in the zip (each module
of ``notification_handlers`` that defines ``handler``), imported in fresh interpreters set up like the
Lambda runtime, median of the runs. The 25 ms target is a column: reported, never enforced.
"""

from __future__ import annotations

from pathlib import Path

from tools import measure_cold_start
from tools.bench.report import Section

TARGET_MS = 25.0
RUNS = 7


def measure(zip_path: Path = measure_cold_start.DEFAULT_ZIP, runs: int = RUNS) -> Section:
    result = measure_cold_start.measure(zip_path, runs)
    rows = []
    for module, total in result.handlers_ms.items():
        overhead = result.overhead_ms(module)
        rows.append(
            (
                module,
                f"{total:.1f} ms",
                f"{result.boto3_ms:.1f} ms",
                f"{overhead:.1f} ms",
                f"{TARGET_MS:.0f} ms",
                "within target" if overhead <= TARGET_MS else f"over by {overhead - TARGET_MS:.1f} ms",
            )
        )
    return Section(
        key="cold_start",
        title="Cold start: import time beyond `import boto3`",
        command=f"python tools/measure_cold_start.py --runs {runs}",
        description=(
            f"Each handler module of `dist/lambda.zip` imported in {runs} fresh interpreters (`-I -S -B -X"
            " importtime`: the zip first on `sys.path`, then only the libraries the Lambda runtime provides,"
            " no bytecode cache, as from the read-only `/var/task`), interleaved with `import boto3` alone;"
            " medians. The overhead is what the handler adds to every cold start."
        ),
        headers=("Handler module", "Total import", "boto3 alone", "Overhead", "Target", "Against target"),
        rows=tuple(rows),
        notes=(
            "Most of the overhead is compiling the vendored Powertools from source (the zip ships no"
            " bytecode); shipping `.pyc` compiled for the target runtime is the planned fix.",
        ),
        data={
            "runs": runs,
            "boto3_ms": round(result.boto3_ms, 1),
            "handlers": {m: round(result.overhead_ms(m), 1) for m in result.handlers_ms},
            "target_ms": TARGET_MS,
        },
        headline=(
            ", ".join(f"{m.rsplit('.', 1)[-1]} {result.overhead_ms(m):.1f} ms" for m in result.handlers_ms)
            + f" beyond `import boto3` ({result.boto3_ms:.0f} ms); target {TARGET_MS:.0f} ms"
        ),
    )
