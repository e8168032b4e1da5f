#!/usr/bin/env python3
"""Build the Lambda deployment zip (dist/lambda.zip) deterministically.

The zip holds the ``notification_handlers`` package and the third-party libraries
pinned in ``lambda_src/requirements.txt``. Those libraries are copied from the
distributions installed in the Python running this script (no network at build
time), after checking each installed version equals its pin.

Every entry gets a fixed timestamp, fixed permissions and a fixed compression level,
and entries are sorted, so the same inputs give the same bytes (and the same
Terraform ``filebase64sha256``) on every machine with the same zlib.

Usage:
    python tools/package_lambda.py                 # write dist/lambda.zip
    python tools/package_lambda.py --output X.zip  # write elsewhere
    python tools/package_lambda.py --check         # fail if dist/lambda.zip is stale
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def build(destination: Path) -> int:
    """Build the zip at ``destination`` (atomically) and return the number of entries."""
    entries = collect_entries(LAMBDA_SRC / HANDLER_PACKAGE, read_pins(REQUIREMENTS_FILE))
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".lambda-", suffix=".zip", dir=destination.parent)
    os.close(fd)
    try:
        write_zip(entries, Path(temporary))
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return len(entries)


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
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / "lambda.zip"
            count = build(fresh)
            print(f"built {describe(fresh, count)}")
            if not output.is_file():
                print(
                    f"FAIL: {display(output)} does not exist; run: python tools/package_lambda.py",
                    file=sys.stderr,
                )
                return 1
            if fresh.read_bytes() != output.read_bytes():
                print(
                    f"FAIL: {display(output)} (sha256 {base64_sha256(output)}) is not what the sources "
                    f"and pins build (sha256 {base64_sha256(fresh)}); "
                    "run: python tools/package_lambda.py, and commit it",
                    file=sys.stderr,
                )
                return 1
            print(f"OK: {display(output)} is up to date")
            return 0
    except BuildError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
