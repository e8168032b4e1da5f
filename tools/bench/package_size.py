"""Section 5: ``dist/lambda.zip``: size, file count, and the vendored libraries vs the handlers' own code."""

from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from tools.bench.environment import REPO_ROOT
from tools.bench.report import Section

DEFAULT_ZIP = REPO_ROOT / "dist" / "lambda.zip"
OWN_PACKAGE = "notification_handlers"


def component(name: str) -> str:
    """The library a zip entry belongs to: its top-level package or module, dist-info folded in.

    A top-level module's bytecode sits in the root ``__pycache__``
    (``__pycache__/six.cpython-312.pyc``): it counts as that module.
    """
    top, _, rest = name.partition("/")
    if top == "__pycache__":
        top = rest.split(".", 1)[0]
    if top.endswith(".dist-info"):
        top = top.split("-", 1)[0]
    top = top.removesuffix(".py")
    return "handlers' own code" if top == OWN_PACKAGE else top


def _kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB"


def measure(zip_path: Path = DEFAULT_ZIP) -> Section:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # files, compressed, uncompressed
    bytecode = [0, 0]  # files, compressed
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            entry = totals[component(info.filename)]
            entry[0] += 1
            entry[1] += info.compress_size
            entry[2] += info.file_size
            if info.filename.endswith(".pyc"):
                bytecode[0] += 1
                bytecode[1] += info.compress_size
    files = sum(entry[0] for entry in totals.values())
    compressed = sum(entry[1] for entry in totals.values())
    uncompressed = sum(entry[2] for entry in totals.values())
    order = sorted(totals, key=lambda name: (-totals[name][1], name))
    rows = [
        (
            name,
            f"{totals[name][0]:,}",
            _kib(totals[name][1]),
            _kib(totals[name][2]),
            f"{100 * totals[name][1] / compressed:.1f} %",
        )
        for name in order
    ]
    zip_size = zip_path.stat().st_size
    rows.append(("total (entries)", f"{files:,}", _kib(compressed), _kib(uncompressed), "100.0 %"))
    data: dict[str, Any] = {
        "zip_bytes": zip_size,
        "files": files,
        "uncompressed_bytes": uncompressed,
        "bytecode": {"files": bytecode[0], "compressed": bytecode[1]},
        "components": {
            name: dict(zip(("files", "compressed", "uncompressed"), totals[name], strict=True))
            for name in order
        },
    }
    try:
        shown = zip_path.relative_to(REPO_ROOT)
    except ValueError:
        shown = zip_path
    return Section(
        key="package_size",
        title="Package size",
        command=f"make bench  (tools/bench/package_size.py; by hand: unzip -lv {shown})",
        description=(
            f"`{shown}`: {zip_size / 1024 / 1024:.2f} MiB on disk ({zip_size:,} bytes), {files:,} files,"
            f" {uncompressed / 1024 / 1024:.2f} MiB uncompressed (Lambda's limit: 50 MiB zipped, 250 MiB"
            " unzipped). Vendored libraries against the handlers' own code:"
        ),
        headers=("Component", "Files", "Compressed", "Uncompressed", "Share of compressed"),
        rows=tuple(rows),
        notes=(
            "boto3/botocore are not in the zip: the Lambda Python runtime provides them.",
            "Each component counts its CPython 3.12 bytecode (`__pycache__/*.cpython-312.pyc`):"
            f" {bytecode[0]:,} files, {_kib(bytecode[1])}"
            f" ({100 * bytecode[1] / compressed:.1f} % of the compressed bytes),"
            " shipped so that a cold start does not compile the sources (section 2).",
        ),
        data=data,
        headline=(
            f"`{shown}` {zip_size / 1024 / 1024:.2f} MiB, {files:,} files; "
            + ", ".join(f"{name} {100 * totals[name][1] / compressed:.1f} %" for name in order)
            + " of the compressed bytes"
        ),
    )
