"""Structured JSON logs for every handler: one line per record on standard output, never a whole event.

Each line carries ``level``, ``location``, ``message``, ``timestamp`` and ``service``, the invocation's
Lambda context (``cold_start``, ``function_name``, ``function_memory_size``, ``function_arn``,
``function_request_id``), ``xray_trace_id`` when tracing is on, the keys a handler appended for the
record it is processing, the record's ``extra`` keys, and for an exception ``exception_name``,
``exception`` (the traceback as text) and ``stack_trace`` (its frames); ``None`` values are left out.
These are the keys and the environment variables (``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_LOG_LEVEL``) of AWS Lambda Powertools' Logger, so Logs Insights queries, metric filters
and dashboards written for it keep working (tests/unit/test_structured_log.py compares the two).

Why not Powertools' Logger itself: importing it executes the whole Powertools package, Metrics and
Tracer included, about 36 M instructions and 30 modules in every execution environment's cold start,
which put the router over its 25 ms budget (docs/benchmarks.md, "Cold start"). This module is a
formatter and a decorator over the standard library's ``logging``, which botocore has already imported.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

from notification_handlers.event_fields import ConfigurationError

SERVICE_ENV: Final = "POWERTOOLS_SERVICE_NAME"
LEVEL_ENV: Final = "POWERTOOLS_LOG_LEVEL"
_LEVELS: Final[Mapping[str, int]] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
# What the standard library puts on every record; any other attribute came from ``extra``.
_RECORD_ATTRIBUTES: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

# One per execution environment: the first invocation any handler of this process serves is the cold one.
_first_invocation = True


def level_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """``POWERTOOLS_LOG_LEVEL``, else ``LOG_LEVEL``, else INFO; an unknown name stops the function at init
    with the name in the error, rather than logging at a level nobody chose."""
    name = (environ.get(LEVEL_ENV) or environ.get("LOG_LEVEL") or "INFO").strip().upper()
    try:
        return _LEVELS[name]
    except KeyError:
        raise ConfigurationError(
            f"{LEVEL_ENV} must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL, got {name!r}"
        ) from None


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created)) + f",{int(created % 1 * 1000):03d}+0000"


def _xray_trace_id() -> str | None:
    # Lambda sets _X_AMZN_TRACE_ID per invocation: "Root=1-...;Parent=...;Sampled=1".
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    root = header.partition("Root=")[2].partition(";")[0]
    return root or None


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; ``keys`` are the appended keys every record carries."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self.keys: dict[str, object] = {}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": _timestamp(record.created),
            "service": self.service,
            **self.keys,
            "xray_trace_id": _xray_trace_id(),
        }
        entry.update((name, value) for name, value in vars(record).items() if name not in _RECORD_ATTRIBUTES)
        if record.exc_info and record.exc_info[0] is not None:
            kind, error, trace = record.exc_info
            entry["exception_name"] = kind.__name__
            entry["exception"] = self.formatException(record.exc_info)
            entry["stack_trace"] = {
                "type": kind.__name__,
                "value": str(error),
                "module": kind.__module__,
                "frames": [
                    {
                        "file": frame.filename,
                        "line": frame.lineno,
                        "function": frame.name,
                        "statement": frame.line,
                    }
                    for frame in traceback.extract_tb(trace)
                ],
            }
        # default=str: a value json cannot encode (a datetime, an enum) is logged as its text, never lost.
        present = {name: value for name, value in entry.items() if value is not None}
        return json.dumps(present, default=str, separators=(",", ":"))


class StructuredLogger:
    """The handlers' logger: ``info``/``warning``/``error``/``exception`` with ``extra`` keys,
    ``append_keys``/``remove_keys`` for the record being processed, and ``inject_lambda_context``.

    Loggers of one service name share one stream handler and one set of appended keys, so every module
    of a handler tags its lines with the same notification id, and a re-imported module never doubles
    the output.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._logger = logging.getLogger(service)
        existing = [h for h in self._logger.handlers if isinstance(h.formatter, JsonFormatter)]
        if existing:
            handler = existing[0]
            formatter = handler.formatter
        else:
            formatter = JsonFormatter(service)
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(formatter)
            self._logger.addHandler(handler)
        self._logger.setLevel(level_from_env())
        self._logger.propagate = False  # one line per record: never again through the root logger
        self.registered_handler = handler
        self._formatter: JsonFormatter = formatter  # type: ignore[assignment]  # found by its type above

    @property
    def log_level(self) -> int:
        return self._logger.level

    def set_level(self, level: int | str) -> None:
        self._logger.setLevel(level)

    def append_keys(self, **keys: object) -> None:
        self._formatter.keys.update(keys)

    def remove_keys(self, names: Iterable[str]) -> None:
        for name in names:
            self._formatter.keys.pop(name, None)

    def debug(self, message: str, *args: object, extra: Mapping[str, object] | None = None) -> None:
        self._log(logging.DEBUG, message, args, extra)

    def info(self, message: str, *args: object, extra: Mapping[str, object] | None = None) -> None:
        self._log(logging.INFO, message, args, extra)

    def warning(self, message: str, *args: object, extra: Mapping[str, object] | None = None) -> None:
        self._log(logging.WARNING, message, args, extra)

    def error(
        self, message: str, *args: object, extra: Mapping[str, object] | None = None, exc_info: bool = False
    ) -> None:
        self._log(logging.ERROR, message, args, extra, exc_info)

    def exception(self, message: str, *args: object, extra: Mapping[str, object] | None = None) -> None:
        """``error`` with the exception being handled (its type and traceback) on the line."""
        self._log(logging.ERROR, message, args, extra, True)

    def _log(
        self,
        level: int,
        message: str,
        args: tuple[object, ...],
        extra: Mapping[str, object] | None,
        exc_info: bool = False,
    ) -> None:
        if self._logger.isEnabledFor(level):
            # stacklevel 3: the location is the handler's line, not this method's or its caller's here.
            self._logger.log(level, message, *args, extra=extra, exc_info=exc_info, stacklevel=3)

    def inject_lambda_context(self, handler: _Handler) -> _Handler:
        """Decorate a Lambda handler: each invocation starts with no appended keys but the context's."""

        @functools.wraps(handler)
        def with_context(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            global _first_invocation
            cold_start, _first_invocation = _first_invocation, False
            self._formatter.keys = {
                "cold_start": cold_start,
                "function_name": getattr(context, "function_name", None),
                "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                "function_arn": getattr(context, "invoked_function_arn", None),
                "function_request_id": getattr(context, "aws_request_id", None),
            }
            return handler(event, context, *args, **kwargs)

        return with_context  # type: ignore[return-value]  # same signature, wrapped


def service_logger(default_service: str) -> StructuredLogger:
    """The logger of the service named by ``POWERTOOLS_SERVICE_NAME`` (the Terraform modules set the
    function's name), else ``default_service``."""
    return StructuredLogger(os.environ.get(SERVICE_ENV) or default_service)
