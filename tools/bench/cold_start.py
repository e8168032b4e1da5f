"""Measure 2: import time each handler adds to a cold start beyond ``import boto3``.

Runs ``tools/measure_cold_start.py``'s measurement: every handler module found in the zip (each module
of ``notification_handlers`` that defines ``handler``), imported in fresh interpreters set up like the
Lambda runtime, median of the runs; with the CPython of the runtime the zip's bytecode targets, both as
shipped and with the bytecode removed. The 25 ms target is a column: reported, never enforced.
"""

from __future__ import annotations

from pathlib import Path

from tools import measure_cold_start, package_lambda
from tools.bench.report import Section

TARGET_MS = 25.0
RUNS = 7


def _against_target(overhead: float) -> str:
    return "within target" if overhead <= TARGET_MS else f"over by {overhead - TARGET_MS:.1f} ms"


def measure(zip_path: Path = measure_cold_start.DEFAULT_ZIP, runs: int = RUNS) -> Section:
    result = measure_cold_start.measure(zip_path, runs)
    shipped, from_source = result.shipped, result.from_source
    # What a function on the default runtime pays: the zip as shipped; without the runtime's CPython
    # here, only the sources could be measured, and the table says so.
    judged = shipped or from_source
    rows = []
    for module in from_source.handlers_ms:
        rows.append(
            (
                module,
                f"{shipped.overhead_ms(module):.1f} ms" if shipped else "not measured",
                f"{from_source.overhead_ms(module):.1f} ms",
                f"{judged.boto3_ms:.1f} ms",
                f"{TARGET_MS:.0f} ms",
                _against_target(judged.overhead_ms(module)),
            )
        )
    runtime = package_lambda.BYTECODE_RUNTIME
    notes = [
        f"As shipped: the zip's `__pycache__/*.{package_lambda.BYTECODE_CACHE_TAG}.pyc` (unchecked-hash,"
        f" compiled at packaging time) are loaded, which is what every function on the default {runtime}"
        " runtime gets. From source: the same zip without them, every source compiled on import, which is"
        " what a function on python3.11 or python3.13 gets (their interpreters ignore 3.12 bytecode).",
        "The runtime's own libraries (boto3, botocore, ...) are measured compiled, as the Lambda runtime"
        " ships them; the baseline `import boto3` is the same in both variants.",
    ]
    if shipped is None:
        notes.append(
            f"No CPython {package_lambda.BYTECODE_VERSION_TEXT} on this machine: measured from source with"
            f" Python {result.python_version} only; the shipped bytecode was not exercised."
        )
    return Section(
        key="cold_start",
        title="Cold start: import time beyond `import boto3`",
        command=f"python tools/measure_cold_start.py --runs {runs}",
        description=(
            f"Each handler module of `dist/lambda.zip` imported by Python {result.python_version} in {runs}"
            " fresh interpreters per variant (`-I -S -B -X importtime`: the zip first on `sys.path`, then"
            " only the libraries the Lambda runtime provides, nothing written, as from the read-only"
            " `/var/task`), interleaved with `import boto3` alone; medians. The overhead is what the"
            " handler adds to every cold start; the target applies to the zip as shipped."
        ),
        headers=(
            "Handler module",
            "Overhead as shipped",
            "Overhead from source",
            "boto3 alone",
            "Target",
            "Against target",
        ),
        rows=tuple(rows),
        notes=tuple(notes),
        data={
            "runs": runs,
            "python": result.python_version,
            "boto3_ms": round(judged.boto3_ms, 1),
            "handlers_as_shipped": (
                {m: round(shipped.overhead_ms(m), 1) for m in shipped.handlers_ms} if shipped else None
            ),
            "handlers_from_source": {
                m: round(from_source.overhead_ms(m), 1) for m in from_source.handlers_ms
            },
            "target_ms": TARGET_MS,
        },
        headline=(
            ", ".join(f"{m.rsplit('.', 1)[-1]} {judged.overhead_ms(m):.1f} ms" for m in judged.handlers_ms)
            + f" beyond `import boto3` ({judged.boto3_ms:.0f} ms, Python {result.python_version}"
            + (", as shipped" if shipped else ", from source")
            + f"); target {TARGET_MS:.0f} ms"
        ),
    )
