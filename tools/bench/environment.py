"""What a run was measured on (machine, versions), and the offline AWS setting the handler measures share."""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from notification_handlers import aws_clients
from notification_handlers.service.log import logger
from tools.bench.cold_start import handler_modules
from tools.ci.terraform_offline import find_provider_mirror
from tools.emulator.account import ACCOUNT_ID, FAKE_AWS_ENV
from tools.emulator.account import DEFAULT_REGION as REGION

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = REPO_ROOT / "lambda_src"


@dataclass
class FakeLambdaContext:
    """What the handlers' ``inject_lambda_context`` reads from a Lambda context."""

    function_name: str = "bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:bench"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"


def handler_module_names() -> list[str]:
    """Every module of the handler package that defines ``handler`` (the same discovery as cold start)."""
    return handler_modules(LAMBDA_SRC)


def _handler_log_streams() -> list[Any]:
    """The stream handlers of the handler modules' loggers, each once.

    Loggers of one service name share a handler; redirecting it twice would make the second
    ``setStream`` return None (the stream was already the sink) and the restore write None back.
    """
    found: dict[int, Any] = {}
    for name in handler_module_names():
        module_logger = getattr(importlib.import_module(name), "logger", None)
        stream_handler = getattr(module_logger, "registered_handler", None)
        if stream_handler is not None and hasattr(stream_handler, "setStream"):
            found.setdefault(id(stream_handler), stream_handler)
    return list(found.values())


@contextmanager
def offline_aws(environment: dict[str, str]) -> Iterator[None]:
    """Fake credentials plus ``environment`` (the handler's settings), fresh clients, quiet handler logs.

    Everything is restored on exit. The handlers' loggers still format every record (that is
    part of an invocation's cost) but write to /dev/null instead of the console.
    """
    saved = dict(os.environ)
    os.environ.update(FAKE_AWS_ENV)
    os.environ.update(environment)
    aws_clients.reset_clients()
    streams: list[tuple[Any, Any]] = []
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for stream_handler in _handler_log_streams():
            streams.append((stream_handler, stream_handler.setStream(sink)))
        try:
            yield
        finally:
            for stream_handler, previous in reversed(streams):
                stream_handler.setStream(previous)
            aws_clients.reset_clients()
            os.environ.clear()
            os.environ.update(saved)


def _meminfo_total() -> str:
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return f"{int(match[1]) / 1024 / 1024:.1f} GiB" if match else "unknown"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match[1].strip() if match else platform.processor() or "unknown"


def load_average() -> float:
    """The 1-minute load average: above the number of cores, timings measured meanwhile are inflated."""
    try:
        return os.getloadavg()[0]
    except OSError:  # not every platform has one
        return float("nan")


def machine() -> dict[str, str]:
    return {
        "CPU cores (logical)": str(os.cpu_count() or "unknown"),
        "CPU model": _cpu_model(),
        "Memory": _meminfo_total(),
        "OS": platform.platform(),
    }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _terraform_version() -> str:
    try:
        completed = subprocess.run(
            ["terraform", "version", "-json"], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "not found"
    return str(json.loads(completed.stdout).get("terraform_version", "unknown"))


def _provider_versions() -> str:
    mirror = find_provider_mirror()
    if mirror is None:
        return "no local mirror (the registry's latest at init)"
    versions = sorted(p.name for p in (mirror / "registry.terraform.io" / "hashicorp" / "aws").glob("*"))
    return ", ".join(versions) or "unknown"


def _vendored_pin(distribution: str) -> str:
    text = (LAMBDA_SRC / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(distribution)}==(\S+)", text, re.MULTILINE | re.IGNORECASE)
    return match[1] if match else "not pinned"


def versions() -> dict[str, str]:
    return {
        "Python": sys.version.split()[0],
        "boto3": _version("boto3"),
        "botocore": _version("botocore"),
        "moto": _version("moto"),
        "Terraform": _terraform_version(),
        "AWS provider (hashicorp/aws, local mirror)": _provider_versions(),
        "rsa (vendored in the zip)": _vendored_pin("rsa"),
        "tzdata (vendored in the zip)": _vendored_pin("tzdata"),
    }


@contextmanager
def quiet_service_logs() -> Iterator[None]:
    """The service's INFO lines off while measuring, and its level restored after (tests share the logger)."""
    level = logger.log_level
    logger.set_level("WARNING")
    try:
        yield
    finally:
        logger.set_level(level)
