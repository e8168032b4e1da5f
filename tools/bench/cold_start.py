"""Section 2: the import time each handler adds to a Lambda cold start beyond ``import boto3``.

The zip is extracted to a scratch directory and every handler module found in it (each module of
``notification_handlers`` that defines ``handler``) is imported in fresh interpreters set up like the Lambda
runtime: the zip directory first on sys.path, then the libraries the runtime provides (boto3 and friends,
taken from this environment and compiled for the measuring interpreter, as the runtime's own are), no
site-packages (-I -S), and no bytecode writes (-B), as from the read-only /var/task.

The interpreter is the CPython of the runtime the zip's bytecode targets (python3.12, found as
``tools/ci/package_lambda.py`` finds it), so two variants are measured: the zip as shipped (its
``__pycache__`` used) and the same zip with its bytecode removed (every source compiled on import: what a
function on another runtime gets). Without that interpreter, this one measures the sources only and says so.

``python -X importtime`` reports each module's cumulative import time; per handler, the median over the runs
of its import after ``import boto3`` in the same interpreter (what it adds beyond boto3: the handler's own
cold-start overhead), and of ``import boto3`` alone for scale. The 25 ms target is a column of the report:
reported, never enforced.

Milliseconds move with the machine's speed and load (``import boto3`` alone measured 127 ms and 170 ms on
the same machine on two days), so ``make bench`` also counts the instructions each handler's import
executes beyond ``import boto3`` under valgrind's callgrind, as shipped: the same zip gives the same count
on any machine state, which is what to compare when a change is meant to make a cold start cheaper.

Usage: python -m tools.bench.cold_start [--zip dist/lambda.zip] [--runs 7]   (`make bench` runs it too)
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.bench.report import Section
from tools.ci import package_lambda

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 25.0
RUNS = 7
DEFAULT_ZIP = REPO_ROOT / "dist" / "lambda.zip"
VALGRIND = "valgrind"
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


def _runtime_sources() -> list[Path]:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    sources = [site_packages / name for name in RUNTIME_PROVIDED]
    for source in sources:
        if not source.exists():
            raise SystemExit(
                f"{source} is missing: run this with the project's virtualenv (.venv/bin/python)"
            )
    return sources


def runtime_dir(scratch: Path) -> Path:
    """A directory holding (symlinks to) only the libraries the Lambda runtime provides, for this
    interpreter (their installed bytecode is this interpreter's)."""
    target = scratch / "runtime"
    target.mkdir()
    for source in _runtime_sources():
        (target / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return target


def compiled_runtime_dir(scratch: Path, python: str) -> Path:
    """A copy of the runtime's libraries compiled by ``python``, as the Lambda runtime ships its own."""
    target = scratch / "runtime"
    target.mkdir()
    for source in _runtime_sources():
        if source.is_dir():
            shutil.copytree(source, target / source.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target / source.name)
    subprocess.run([python, "-I", "-S", "-m", "compileall", "-q", str(target)], check=True, timeout=600)
    return target


def strip_bytecode(directory: Path) -> None:
    for cache in list(directory.rglob("__pycache__")):
        shutil.rmtree(cache)


def cumulative_ms(importtime_stderr: str, module: str) -> float:
    """The cumulative import time of ``module`` when it was imported at top level."""
    for line in importtime_stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match and match[3] == module:  # nested imports are indented, so this is top level
            return int(match[2]) / 1000
    raise RuntimeError(f"no top-level import of {module} in the -X importtime output:\n{importtime_stderr}")


def import_time_ms(
    module: str, search_path: Sequence[Path], python: str = sys.executable, *, after: str | None = None
) -> float:
    """``module``'s cumulative import time in a fresh interpreter; with ``after``, imported once that module
    is (what ``module`` adds beyond it: the modules they share are already loaded)."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in search_path]!r}; "
    if after is not None:
        prelude += f"import {after}; "
    completed = subprocess.run(
        [python, "-I", "-S", "-B", "-X", "importtime", "-c", f"{prelude}import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return cumulative_ms(completed.stderr, module)


@dataclass(frozen=True)
class ColdStart:
    """Medians over ``runs`` fresh interpreters of each handler's import after ``import boto3``, and of
    ``import boto3`` alone."""

    runs: int
    boto3_ms: float
    handlers_ms: dict[str, float]  # module -> median import time after `import boto3`, sorted by module

    def overhead_ms(self, module: str) -> float:
        """What the handler adds to a cold start beyond ``import boto3``: never below 0, also for a handler
        that does not import boto3 at all (its cold start is then smaller still, by boto3's import)."""
        return self.handlers_ms[module]


@dataclass(frozen=True)
class Measurement:
    """The zip as shipped and without its bytecode, imported by ``python`` (``python_version``).

    ``shipped`` is None when ``python`` is not the interpreter the bytecode targets: it would ignore the
    bytecode, so the shipped zip is ``from_source`` for it.
    """

    python: str
    python_version: str
    from_source: ColdStart
    shipped: ColdStart | None
    instructions: dict[str, int] | None = None  # as shipped, beyond ``import boto3`` (callgrind)


def _measure_tree(modules: Sequence[str], search_path: Sequence[Path], python: str, runs: int) -> ColdStart:
    # One discarded round warms the OS file cache so the runs compare like with like.
    def sample(module: str) -> float:
        after = None if module == BASELINE_MODULE else BASELINE_MODULE
        return import_time_ms(module, search_path, python, after=after)

    for module in (BASELINE_MODULE, *modules):
        sample(module)
    samples: dict[str, list[float]] = {module: [] for module in (BASELINE_MODULE, *modules)}
    for _ in range(runs):
        for module, times in samples.items():  # interleaved, so drift affects every module alike
            times.append(sample(module))
    return ColdStart(
        runs=runs,
        boto3_ms=statistics.median(samples[BASELINE_MODULE]),
        handlers_ms={module: statistics.median(samples[module]) for module in modules},
    )


def measure_zip(zip_path: Path = DEFAULT_ZIP, runs: int = RUNS, *, instructions: bool = False) -> Measurement:
    """Import every handler module of ``zip_path`` (and boto3 alone) in ``runs`` fresh interpreters each:
    as shipped and from source with the runtime's CPython if found, else from source with this one."""
    target_python = package_lambda.find_bytecode_python()
    python = target_python or sys.executable
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        zip_dir = scratch / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(zip_dir)
        runtime = compiled_runtime_dir(scratch, target_python) if target_python else runtime_dir(scratch)
        search_path = [zip_dir, runtime]
        modules = handler_modules(zip_dir)
        if not modules:
            raise SystemExit(f"no handler modules found in {zip_path}")
        shipped = _measure_tree(modules, search_path, python, runs) if target_python else None
        counted = None
        if instructions and target_python:
            counted = instructions_beyond_boto3(modules, search_path, python)
        strip_bytecode(zip_dir)
        from_source = _measure_tree(modules, search_path, python, runs)
    version = subprocess.run(
        [python, "-I", "-S", "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Measurement(
        python=python,
        python_version=version,
        from_source=from_source,
        shipped=shipped,
        instructions=counted,
    )


def _callgrind_instructions(statement: str, search_path: Sequence[Path], python: str) -> int:
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in search_path]!r}; import {BASELINE_MODULE}"
    command = [VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-I", "-S", "-B"]
    completed = subprocess.run(
        [*command, "-c", prelude + statement],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", completed.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no instruction count:\n{completed.stderr[-2000:]}")
    return int(match[1])


def instructions_beyond_boto3(
    modules: Sequence[str], search_path: Sequence[Path], python: str
) -> dict[str, int] | None:
    """Instructions each module's import executes after ``import boto3`` (callgrind); None without valgrind.
    A handler that never imports boto3 (the WebSocket authorizer) counts only its own."""
    if shutil.which(VALGRIND) is None:
        return None
    baseline = _callgrind_instructions("", search_path, python)
    return {
        module: _callgrind_instructions(f"; import {module}", search_path, python) - baseline
        for module in modules
    }


def _against_target(overhead: float) -> str:
    return "within target" if overhead <= TARGET_MS else f"over by {overhead - TARGET_MS:.1f} ms"


def _millions(count: int | None) -> str:
    return "not measured" if count is None else f"{count / 1e6:.1f} M"


def measure(zip_path: Path = DEFAULT_ZIP, runs: int = RUNS, *, instructions: bool = True) -> Section:
    """The report's cold-start section: ``measure_zip`` against the target (with callgrind's instruction
    counts unless ``instructions`` is false: they take about ten seconds a handler)."""
    result = measure_zip(zip_path, runs, instructions=instructions)
    counted = result.instructions or {}
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
                _millions(counted.get(module)),
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
        "Instructions: callgrind's count of what the handler's import executes after `import boto3`, as"
        " shipped (deterministic, unlike milliseconds: compare these across changes).",
        "Both figures are taken after `import boto3` in the same interpreter, so they are what the handler"
        " adds beyond it. A handler that never imports boto3 (the WebSocket authorizer) counts its own"
        " import only; its whole cold start is smaller by boto3's.",
    ]
    if shipped is None:
        notes.append(
            f"No CPython {package_lambda.BYTECODE_VERSION_TEXT} on this machine: measured from source with"
            f" Python {result.python_version} only; the shipped bytecode was not exercised."
        )
    return Section(
        key="cold_start",
        title="Cold start: import time beyond `import boto3`",
        command=f"python -m tools.bench.cold_start --runs {runs}",
        description=(
            f"Each handler module of `dist/lambda.zip` imported by Python {result.python_version} in {runs}"
            " fresh interpreters per variant (`-I -S -B -X importtime`: the zip first on `sys.path`, then"
            " only the libraries the Lambda runtime provides, nothing written, as from the read-only"
            " `/var/task`), each after `import boto3`, interleaved with `import boto3` alone; medians. The"
            " overhead is the handler's import time after boto3's: what it adds to every cold start; the"
            " target applies to the zip as shipped."
        ),
        headers=(
            "Handler module",
            "Overhead as shipped",
            "Overhead from source",
            "boto3 alone",
            "Target",
            "Against target",
            "Instructions as shipped",
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
            "instructions_as_shipped": result.instructions,
        },
        headline=(
            ", ".join(f"{m.rsplit('.', 1)[-1]} {judged.overhead_ms(m):.1f} ms" for m in judged.handlers_ms)
            + f" beyond `import boto3` ({judged.boto3_ms:.0f} ms, Python {result.python_version}"
            + (", as shipped" if shipped else ", from source")
            + f"); target {TARGET_MS:.0f} ms"
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The import time each handler of the zip adds to a cold start beyond `import boto3`."
    )
    parser.add_argument(
        "--zip", type=Path, default=DEFAULT_ZIP, help="deployment zip (default: dist/lambda.zip)"
    )
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"fresh interpreters per module (default: {RUNS})"
    )
    args = parser.parse_args(argv)

    result = measure_zip(args.zip, args.runs)
    print(
        f"python {result.python_version} ({result.python}), {args.runs} runs each, medians of -X importtime:"
    )
    variants = [("as shipped", result.shipped), ("from source", result.from_source)]
    for label, cold_start in variants:
        if cold_start is None:
            print(f"as shipped: not measured ({result.python} is not the bytecode's CPython)")
            continue
        for module, total in cold_start.handlers_ms.items():
            print(
                f"{label}: {module}: total {total:.1f} ms, boto3 {cold_start.boto3_ms:.1f} ms,"
                f" overhead {cold_start.overhead_ms(module):.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
