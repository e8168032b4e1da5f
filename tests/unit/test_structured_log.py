"""The handlers' structured logger: one JSON object per line with the keys the Powertools Logger wrote, the
Lambda context per invocation, appended keys that never leak into the next invocation, and a clear error
for a log level nobody can mean."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Logger as PowertoolsLogger  # dev-only: the key layout to keep

from notification_handlers import structured_log
from notification_handlers.event_fields import ConfigurationError
from notification_handlers.structured_log import StructuredLogger, level_from_env
from tests.unit.conftest import FakeLambdaContext

# A name no handler uses: these tests never touch a handler's logger.
SERVICE = "structured-log-test"


@pytest.fixture
def logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StructuredLogger, io.StringIO]]:
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    log = StructuredLogger(SERVICE)
    buffer = io.StringIO()
    previous = log.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield log, buffer
    log.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    log.remove_keys(list(log._formatter.keys))


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_has_the_standard_keys_the_caller_location_and_the_extra_keys(
    logger: tuple[StructuredLogger, io.StringIO],
) -> None:
    log, buffer = logger
    log.info("delivered", extra={"channel": "email", "attempts": 2, "unset": None})
    [line] = lines(buffer)
    assert line["level"] == "INFO"
    assert line["message"] == "delivered"
    assert line["service"] == SERVICE
    # The handler's line, not the logger's own methods.
    assert line["location"].startswith(
        "test_a_line_has_the_standard_keys_the_caller_location_and_the_extra_keys:"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", line["timestamp"])
    assert (line["channel"], line["attempts"]) == ("email", 2)
    assert "unset" not in line and "xray_trace_id" not in line  # None values are left out


def test_the_keys_match_what_the_powertools_logger_wrote(
    logger: tuple[StructuredLogger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logs Insights queries and metric filters written against the earlier versions keep matching."""
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    log, buffer = logger
    theirs = io.StringIO()
    powertools = PowertoolsLogger(
        service=SERVICE + "-powertools", logger_handler=logging.StreamHandler(theirs)
    )

    @powertools.inject_lambda_context
    def their_handler(event: Any, context: Any) -> None:
        powertools.append_keys(notification_id="n-1")
        try:
            raise KeyError("boom")
        except KeyError:
            powertools.exception("failed", extra={"error_code": "X"})

    @log.inject_lambda_context
    def our_handler(event: Any, context: Any) -> None:
        log.append_keys(notification_id="n-1")
        try:
            raise KeyError("boom")
        except KeyError:
            log.exception("failed", extra={"error_code": "X"})

    their_handler({}, FakeLambdaContext())
    our_handler({}, FakeLambdaContext())
    [their_line] = [json.loads(line) for line in theirs.getvalue().splitlines()]
    [our_line] = lines(buffer)
    assert set(our_line) == set(their_line)
    same = set(our_line) - {"service", "location", "timestamp", "exception", "cold_start", "stack_trace"}
    assert {k: our_line[k] for k in same} == {k: their_line[k] for k in same}
    ours, theirs_trace = our_line["stack_trace"], their_line["stack_trace"]
    assert {**ours, "frames": None} == {**theirs_trace, "frames": None}
    assert [set(frame) for frame in ours["frames"]] == [set(frame) for frame in theirs_trace["frames"]]
    assert ours["frames"][-1]["function"] == "our_handler"
    assert our_line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert our_line["exception_name"] == "KeyError"
    assert 'raise KeyError("boom")' in our_line["exception"]


def test_each_invocation_starts_with_only_its_own_context(
    logger: tuple[StructuredLogger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, buffer = logger
    monkeypatch.setattr(structured_log, "_first_invocation", True)  # a fresh execution environment

    @log.inject_lambda_context
    def handler(event: dict[str, str], context: Any) -> str:
        log.info("start")
        log.append_keys(notification_id=event["id"])
        log.info("end")
        return event["id"]

    assert handler({"id": "n-1"}, FakeLambdaContext(aws_request_id="r-1")) == "n-1"
    assert handler({"id": "n-2"}, FakeLambdaContext(aws_request_id="r-2")) == "n-2"
    start_1, end_1, start_2, end_2 = lines(buffer)
    assert (start_1["cold_start"], start_2["cold_start"]) == (True, False)
    assert (start_1["function_request_id"], start_2["function_request_id"]) == ("r-1", "r-2")
    assert start_1["function_name"] == "root-activity-notifier"
    assert "notification_id" not in start_2, "an appended key leaked into the next invocation"
    assert (end_1["notification_id"], end_2["notification_id"]) == ("n-1", "n-2")


def test_user_data_cannot_forge_a_line(logger: tuple[StructuredLogger, io.StringIO]) -> None:
    log, buffer = logger
    forged = 'x"}\n{"level": "INFO", "message": "user u-2 verified"}'
    log.warning("rejected", extra={"reason": forged})
    [line] = lines(buffer)
    assert line["reason"] == forged


def test_values_json_cannot_encode_are_logged_as_text(logger: tuple[StructuredLogger, io.StringIO]) -> None:
    log, buffer = logger
    log.info("odd", extra={"value": {1}, "when": b"bytes"})
    [line] = lines(buffer)
    assert (line["value"], line["when"]) == ("{1}", "b'bytes'")


def test_levels_below_the_configured_one_are_not_written(
    logger: tuple[StructuredLogger, io.StringIO],
) -> None:
    log, buffer = logger
    log.set_level("WARNING")
    log.info("hidden")
    log.debug("hidden")
    log.error("shown")
    log.set_level(logging.INFO)
    assert [line["message"] for line in lines(buffer)] == ["shown"]
    assert log.log_level == logging.INFO


def test_loggers_of_one_service_share_one_handler_and_its_keys(
    logger: tuple[StructuredLogger, io.StringIO],
) -> None:
    log, buffer = logger
    again = StructuredLogger(SERVICE)  # a second module of the same handler, or a re-import
    assert again.registered_handler is log.registered_handler
    log.append_keys(notification_id="n-9")
    again.info("from another module")
    [line] = lines(buffer)
    assert line["notification_id"] == "n-9"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, logging.INFO),
        ({"POWERTOOLS_LOG_LEVEL": "debug"}, logging.DEBUG),
        ({"POWERTOOLS_LOG_LEVEL": " WARN "}, logging.WARNING),
        ({"LOG_LEVEL": "ERROR"}, logging.ERROR),
        ({"POWERTOOLS_LOG_LEVEL": "CRITICAL", "LOG_LEVEL": "DEBUG"}, logging.CRITICAL),
        ({"POWERTOOLS_LOG_LEVEL": ""}, logging.INFO),
    ],
)
def test_the_level_comes_from_the_environment(environment: dict[str, str], expected: int) -> None:
    assert level_from_env(environment) == expected


def test_an_unknown_level_stops_the_function_at_init_with_the_name() -> None:
    with pytest.raises(ConfigurationError, match=r"POWERTOOLS_LOG_LEVEL must be one of .*got 'VERBOSE'"):
        level_from_env({"POWERTOOLS_LOG_LEVEL": "verbose"})
