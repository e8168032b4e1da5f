#!/usr/bin/env python3
"""Measure what each handler adds to a Lambda cold start, beyond importing boto3.

The zip is extracted to a scratch directory and every handler module found in it is
imported in fresh interpreters set up like the Lambda runtime: the zip directory first
on sys.path, then the libraries the runtime provides (boto3 and friends, taken from
this environment), no site-packages (-I -S), and no bytecode writes (-B) so the
vendored sources are compiled on every import, as they are from the read-only /var/task.

``python -X importtime`` reports each module's cumulative import time; the script
prints, per handler, the median over the runs of the handler's total, of ``import
boto3`` alone, and their difference: the handler's own cold-start overhead.

Usage: python tools/measure_cold_start.py [--zip dist/lambda.zip] [--runs 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZIP = REPO_ROOT / "dist" / "lambda.zip"
HANDLER_PACKAGE = "notification_handlers"
BASELINE_MODULE = "boto3"
# Packages the AWS Lambda Python runtime ships; everything else must come from the zip.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (.*)$")


def handler_modules(zip_dir: Path) -> list[str]:
    """Modules of the handler package (and its subpackages) that define a top-level ``handler`` function."""
    return sorted(
        ".".join(source.relative_to(zip_dir).with_suffix("").parts)
        for source in (zip_dir / HANDLER_PACKAGE).rglob("*.py")
        if re.search(r"^def handler\(", source.read_text(encoding="utf-8"), re.MULTILINE)
    )


def runtime_dir(scratch: Path) -> Path:
    """A directory holding (symlinks to) only the libraries the Lambda runtime provides."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    target = scratch / "runtime"
    target.mkdir()
    for name in RUNTIME_PROVIDED:
        source = site_packages / name
        if not source.exists():
            raise SystemExit(
                f"{source} is missing: run this with the project's virtualenv (.venv/bin/python)"
            )
        (target / name).symlink_to(source, target_is_directory=source.is_dir())
    return target


def cumulative_ms(importtime_stderr: str, module: str) -> float:
    """The cumulative import time of ``module`` when it was imported at top level."""
    for line in importtime_stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match and match[3] == module:  # nested imports are indented, so this is top level
            return int(match[2]) / 1000
    raise RuntimeError(f"no top-level import of {module} in the -X importtime output:\n{importtime_stderr}")


def import_time_ms(module: str, search_path: Sequence[Path]) -> float:
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in search_path]!r}; "
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-X", "importtime", "-c", f"{prelude}import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return cumulative_ms(completed.stderr, module)


@dataclass(frozen=True)
class ColdStart:
    """Medians over ``runs`` fresh interpreters of each handler's import, and of ``import boto3`` alone."""

    runs: int
    boto3_ms: float
    handlers_ms: dict[str, float]  # module -> median cumulative import time, sorted by module

    def overhead_ms(self, module: str) -> float:
        """What the handler adds to a cold start beyond ``import boto3``."""
        return self.handlers_ms[module] - self.boto3_ms


def measure(zip_path: Path = DEFAULT_ZIP, runs: int = 7) -> ColdStart:
    """Import every handler module of ``zip_path`` (and boto3 alone) in ``runs`` fresh interpreters each."""
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        zip_dir = scratch / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(zip_dir)
        search_path = [zip_dir, runtime_dir(scratch)]
        modules = handler_modules(zip_dir)
        if not modules:
            raise SystemExit(f"no handler modules found in {zip_path}")

        # One discarded round warms the OS file cache so the runs compare like with like.
        for module in (BASELINE_MODULE, *modules):
            import_time_ms(module, search_path)
        samples: dict[str, list[float]] = {module: [] for module in (BASELINE_MODULE, *modules)}
        for _ in range(runs):
            for module, times in samples.items():  # interleaved, so drift affects every module alike
                times.append(import_time_ms(module, search_path))

    return ColdStart(
        runs=runs,
        boto3_ms=statistics.median(samples[BASELINE_MODULE]),
        handlers_ms={module: statistics.median(samples[module]) for module in modules},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--zip", type=Path, default=DEFAULT_ZIP, help="deployment zip (default: dist/lambda.zip)"
    )
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module (default: 7)")
    args = parser.parse_args(argv)

    result = measure(args.zip, args.runs)
    print(f"python {sys.version.split()[0]}, {args.runs} runs each, medians of -X importtime cumulative:")
    for module, total in result.handlers_ms.items():
        print(
            f"{module}: total {total:.1f} ms, boto3 {result.boto3_ms:.1f} ms,"
            f" overhead {result.overhead_ms(module):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
