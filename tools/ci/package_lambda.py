#!/usr/bin/env python3
"""Build the Lambda deployment zip (dist/lambda.zip) deterministically.

The zip holds the ``notification_handlers`` package and the third-party libraries
pinned in ``lambda_src/requirements.txt``. Those libraries are copied from the
distributions installed in the Python running this script (no network at build
time), after checking each installed version equals its pin.

Every Python source also ships compiled for the functions' default runtime (python3.12):
``__pycache__/*.cpython-312.pyc`` in unchecked-hash mode, written by a CPython 3.12
found on this machine. Lambda's ``/var/task`` is read-only, so without them every cold
start compiles the vendored libraries from source (measured: most of each handler's
import time; docs/benchmarks.md). Unchecked: the runtime loads them without reading
the source's mtime or hash; the zip is immutable, so they cannot go stale. Functions on
another runtime ignore them (another cache tag) and compile from source as before.

Every entry gets a fixed timestamp, fixed permissions and a fixed compression level,
and entries are sorted, so the same inputs give the same bytes (and the same
Terraform ``filebase64sha256``) on every machine with the same zlib and the same
CPython 3.12 compiler (the bytecode was checked to be identical across hash seeds and
compile orders).

Usage:
    python tools/ci/package_lambda.py                 # write dist/lambda.zip
    python tools/ci/package_lambda.py --output X.zip  # write elsewhere
    python tools/ci/package_lambda.py --check         # fail if dist/lambda.zip is stale

The 3.12 interpreter: $LAMBDA_BYTECODE_PYTHON, else ``python3.12`` on PATH, else the
newest ``$PYENV_ROOT/versions/3.12.*``. Without one, building fails with what to install,
and ``--check`` verifies every entry but the bytecode and says so.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
HANDLER_PACKAGE = "notification_handlers"
REQUIREMENTS_FILE = LAMBDA_SRC / "requirements.txt"
DEFAULT_OUTPUT = REPO_ROOT / "dist" / "lambda.zip"
# What ships from the handler package: Python sources and the JSON data files they load at run time.
HANDLER_SUFFIXES = frozenset({".py", ".json"})

# The earliest date a zip entry can hold; any fixed value works, this one is conventional.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
UNIX_CREATOR = 3  # "made by Unix", so unzip and Lambda honour the mode bits
COMPRESSION_LEVEL = 9

# The runtime the bytecode is compiled for: the default `runtime` / `lambda_runtime` of every module
# (tests/unit/test_package.py keeps them equal).
BYTECODE_RUNTIME = "python3.12"
BYTECODE_VERSION = (3, 12)
BYTECODE_VERSION_TEXT = "3.12"
BYTECODE_CACHE_TAG = "cpython-312"
BYTECODE_PYTHON_ENV = "LAMBDA_BYTECODE_PYTHON"
# Runs in the target interpreter (-I -S: no site-packages, no PYTHON* variables). dfile is the path inside the
# zip, so nothing of this machine is embedded; the loader sets co_filename to the real path on import.
_COMPILE_SCRIPT = """
import py_compile, sys
from pathlib import Path
sources, compiled = Path(sys.argv[1]), Path(sys.argv[2])
for line in sys.stdin.read().splitlines():
    source, pyc = line.split("\\t")
    py_compile.compile(
        str(sources / source), cfile=str(compiled / pyc), dfile=source, doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
"""

_PIN_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)$")
# Installer bookkeeping (RECORD, INSTALLER, REQUESTED, direct_url.json, ...) differs between
# pip/uv versions and machines; only the metadata and the licences travel with the code.
_KEPT_DIST_INFO = re.compile(r"^[^/]+\.dist-info/(METADATA|licenses/.+|LICEN[CS]E[^/]*|COPYING[^/]*)$")


class BuildError(Exception):
    """The zip cannot be built as pinned; the message says what to fix."""


@dataclass(frozen=True)
class Entry:
    arcname: str
    source: Path


def is_bytecode(arcname: str) -> bool:
    return "/__pycache__/" in f"/{arcname}" or arcname.endswith((".pyc", ".pyo"))


def _interpreter_version(candidate: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a Python executable, or None if it does not run (e.g. an inactive pyenv shim)."""
    try:
        completed = subprocess.run(
            [candidate, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    major, _, minor = completed.stdout.strip().partition(" ")
    if completed.returncode != 0 or not (major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def find_bytecode_python() -> str | None:
    """A CPython ``BYTECODE_VERSION`` executable: the override variable, PATH, then pyenv's versions."""
    override = os.environ.get(BYTECODE_PYTHON_ENV)
    if override:
        if _interpreter_version(override) != BYTECODE_VERSION:
            raise BuildError(
                f"{BYTECODE_PYTHON_ENV}={override} is not a working Python {BYTECODE_VERSION_TEXT}"
            )
        return override
    candidates = [found] if (found := shutil.which(BYTECODE_RUNTIME)) else []
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    version_prefix = f"{BYTECODE_VERSION_TEXT}."
    pyenv_versions = [
        path
        for path in (pyenv_root / "versions").glob(f"{version_prefix}*")
        if path.name[len(version_prefix) :].isdigit()
    ]
    for version_dir in sorted(pyenv_versions, key=lambda p: int(p.name[len(version_prefix) :]), reverse=True):
        candidates.append(str(version_dir / "bin" / BYTECODE_RUNTIME))
    for candidate in candidates:
        if _interpreter_version(candidate) == BYTECODE_VERSION:
            return candidate
    return None


def require_bytecode_python() -> str:
    python = find_bytecode_python()
    if python is None:
        raise BuildError(
            f"no CPython {BYTECODE_VERSION_TEXT} found to compile the bytecode shipped for the"
            f" {BYTECODE_RUNTIME} runtime: install it (python.org, pyenv or uv) and put {BYTECODE_RUNTIME}"
            f" on PATH, or set {BYTECODE_PYTHON_ENV} to its path"
        )
    return python


def bytecode_entries(sources: Sequence[Entry], python: str, scratch: Path) -> list[Entry]:
    """Each ``.py`` entry compiled by ``python`` into its ``__pycache__`` (unchecked-hash pyc)."""
    staged = scratch / "sources"
    compiled = scratch / "compiled"
    pyc_names: dict[str, str] = {}
    for entry in sources:
        path = PurePosixPath(entry.arcname)
        if path.suffix != ".py":
            continue
        target = staged / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.source.read_bytes())
        pyc_names[entry.arcname] = (
            path.parent / "__pycache__" / f"{path.stem}.{BYTECODE_CACHE_TAG}.pyc"
        ).as_posix()
    completed = subprocess.run(
        [python, "-I", "-S", "-c", _COMPILE_SCRIPT, str(staged), str(compiled)],
        input="".join(f"{source}\t{pyc}\n" for source, pyc in pyc_names.items()),
        # Random hash seed on purpose (-I ignores PYTHONHASHSEED): the output was checked identical across
        # seeds and compile orders, and test_build_is_deterministic keeps checking it build after build.
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        raise BuildError(f"{python} could not compile the sources:\n{completed.stderr.strip()[-2000:]}")
    return [Entry(pyc, compiled / pyc) for pyc in pyc_names.values()]


def read_pins(requirements: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file; anything looser is refused."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(requirements.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN_LINE.match(line)
        if match is None:
            raise BuildError(f"{requirements}:{number}: {raw.strip()!r} is not an exact 'name==version' pin")
        pins[match["name"]] = match["version"]
    return pins


def is_excluded(path: PurePosixPath) -> bool:
    return "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}


def handler_entries(package_dir: Path) -> list[Entry]:
    """The handler package's Python sources and JSON data files (e.g. the notification service's JSON
    Schema); editor or build leftovers never get in."""
    entries = []
    for source in sorted(package_dir.rglob("*")):
        if not source.is_file() or source.suffix not in HANDLER_SUFFIXES:
            continue
        arcname = PurePosixPath(package_dir.name, *source.relative_to(package_dir).parts)
        if not is_excluded(arcname):
            entries.append(Entry(arcname.as_posix(), source))
    if not any(entry.arcname == f"{package_dir.name}/__init__.py" for entry in entries):
        raise BuildError(f"{package_dir} is not a package (no __init__.py)")
    return entries


def keep_vendored_file(path: PurePosixPath) -> bool:
    if is_excluded(path) or path.parts[0] == "..":  # ".." = scripts installed outside site-packages
        return False
    if path.parts[0].endswith(".dist-info"):
        return _KEPT_DIST_INFO.match(path.as_posix()) is not None
    return True


def vendored_entries(name: str, pinned_version: str) -> list[Entry]:
    """Files of the installed distribution ``name``, after checking it matches its pin."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise BuildError(
            f"{name}=={pinned_version} is pinned in {display(REQUIREMENTS_FILE)} but not installed in "
            f"{sys.executable}; run this script with the project's virtualenv (.venv/bin/python)"
        ) from None
    if distribution.version != pinned_version:
        raise BuildError(
            f"{name} is pinned to {pinned_version} but {distribution.version} is installed in "
            f"{sys.executable}; install the pinned version (make venv) or update the pin"
        )
    entries = []
    for file in distribution.files or []:
        path = PurePosixPath(file.as_posix())
        if not keep_vendored_file(path):
            continue
        source = Path(str(file.locate()))
        if not source.is_file():
            raise BuildError(
                f"{name}: {path} is listed as installed but {source} does not exist; reinstall it"
            )
        entries.append(Entry(path.as_posix(), source))
    if not entries:
        raise BuildError(f"{name}: the installed distribution lists no files (was it installed by pip?)")
    return entries


def collect_entries(package_dir: Path, pins: Mapping[str, str]) -> list[Entry]:
    entries = handler_entries(package_dir)
    for name, version in sorted(pins.items()):
        entries += vendored_entries(name, version)
    by_name: dict[str, Entry] = {}
    for entry in entries:
        if entry.arcname in by_name:
            raise BuildError(
                f"{entry.arcname} would come from both {by_name[entry.arcname].source} and {entry.source}"
            )
        by_name[entry.arcname] = entry
    return [by_name[name] for name in sorted(by_name)]


def write_zip(entries: Iterable[Entry], destination: Path) -> None:
    """Write the entries with fixed metadata; no directory entries, so no directory modes."""
    with zipfile.ZipFile(destination, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_DATE_TIME)
            info.create_system = UNIX_CREATOR
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.source.read_bytes(), compresslevel=COMPRESSION_LEVEL)


def build(destination: Path, *, with_bytecode: bool = True) -> int:
    """Build the zip at ``destination`` (atomically) and return the number of entries.

    ``with_bytecode=False`` leaves the ``.pyc`` out: only ``--check`` does that, on a machine without
    CPython 3.12, to verify the rest.
    """
    entries = collect_entries(LAMBDA_SRC / HANDLER_PACKAGE, read_pins(REQUIREMENTS_FILE))
    python = require_bytecode_python() if with_bytecode else None
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".lambda-", suffix=".zip", dir=destination.parent)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            if python is not None:
                entries = sorted(
                    entries + bytecode_entries(entries, python, Path(scratch)), key=lambda e: e.arcname
                )
            write_zip(entries, Path(temporary))
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return len(entries)


def non_bytecode_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not is_bytecode(name)}


def is_current(fresh: Path, committed: Path, *, bytecode_checked: bool) -> bool:
    """Whether ``committed`` is what the sources build: byte for byte, or (bytecode not built) every
    entry's content except the bytecode."""
    if bytecode_checked:
        return fresh.read_bytes() == committed.read_bytes()
    return non_bytecode_contents(fresh) == non_bytecode_contents(committed)


def base64_sha256(path: Path) -> str:
    """The digest Terraform's ``filebase64sha256`` (and Lambda's CodeSha256) report."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode("ascii")


def describe(path: Path, count: int) -> str:
    size = path.stat().st_size
    return (
        f"{display(path)}: {count} files, {size} bytes ({size / 1024:.0f} KiB), "
        f"sha256 (base64) {base64_sha256(path)} [zlib {zlib.ZLIB_RUNTIME_VERSION}]"
    )


def display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (default: dist/lambda.zip)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="build to a temporary file and fail if it differs from --output instead of writing it",
    )
    args = parser.parse_args(argv)
    output: Path = args.output.resolve()
    try:
        if not args.check:
            count = build(output)
            print(f"wrote {describe(output, count)}")
            return 0
        bytecode_checked = find_bytecode_python() is not None
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / "lambda.zip"
            count = build(fresh, with_bytecode=bytecode_checked)
            print(f"built {describe(fresh, count)}")
            if not output.is_file():
                print(
                    f"FAIL: {display(output)} does not exist; run: python tools/ci/package_lambda.py",
                    file=sys.stderr,
                )
                return 1
            if not is_current(fresh, output, bytecode_checked=bytecode_checked):
                print(
                    f"FAIL: {display(output)} (sha256 {base64_sha256(output)}) is not what the sources "
                    f"and pins build (sha256 {base64_sha256(fresh)}); "
                    "run: python tools/ci/package_lambda.py, and commit it",
                    file=sys.stderr,
                )
                return 1
            if not bytecode_checked:
                print(
                    f"WARNING: no CPython {BYTECODE_VERSION_TEXT} here: every entry but the shipped"
                    f" {BYTECODE_CACHE_TAG} bytecode was verified",
                    file=sys.stderr,
                )
            print(f"OK: {display(output)} is up to date")
            return 0
    except BuildError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
