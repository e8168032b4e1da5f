"""`make bench` on tiny inputs: every fast measure runs and the report renders with every section.

Not a timed test: it checks what was counted and that the report says it, never how fast anything was.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.bench import api_calls, environment, package_size, runner, terraform
from tools.bench.all_workloads import QUICK_WORKLOADS
from tools.bench.digest_workloads import DIGEST_ROUTER
from tools.bench.report import render_json, render_markdown, write
from tools.bench.scheduling_workloads import QUIET_HOURS_ROUTER
from tools.bench.service_workloads import (
    EMAIL_WORKER,
    PUSH_WORKER,
    ROUTER_FALLBACK_WORKLOADS,
    ROUTER_WORKLOADS,
    WEBSOCKET_WORKER,
)
from tools.bench.workloads import ROOT_ACTIVITY, S3_OBJECT_NOTIFIER

SECTIONS = (
    "## Headline",
    "## Machine and versions",
    "## 1. AWS API calls per notification",
    "## 2. Cold start: import time beyond `import boto3`",
    "## 3. Per-invocation work",
    "## 4. WebSocket fan-out",
    "## 5. Package size",
    "## 6. Terraform against the emulator",
)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> runner.Report:
    missing = tmp_path_factory.mktemp("bench") / "no-previous-run.json"
    return runner.run(quick=True, with_terraform=False, previous_json=missing)


def test_report_has_every_section_in_order(quick_report: runner.Report) -> None:
    markdown = render_markdown(quick_report)
    positions = [markdown.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    for name in ("CPU model", "Memory", "OS", "Python", "boto3", "moto", "Terraform", "rsa", "tzdata"):
        assert f"| {name}" in markdown
    assert "Reproduce: `python -m tools.bench.cold_start --runs 1`" in markdown
    assert "not measured: run `make bench TERRAFORM=1`" in markdown


def test_api_calls_are_counted_per_step_with_their_bound(quick_report: runner.Report) -> None:
    [section] = [s for s in quick_report.sections if s.key == "api_calls"]
    for workload in (ROOT_ACTIVITY, S3_OBJECT_NOTIFIER):
        assert section.data[f"{workload.key}/2/delivery"] == {"calls": 2, "lower_bound": 2}
    # Every handler that delivers has a workload: only those that deliver nothing are listed without one,
    # each with what it runs for instead. The registration API is measured through its inbox list page.
    assert not [row[0] for row in section.rows if "no workload" in row[6]]
    unmeasured = {row[0]: row[6] for row in section.rows if row[1] == "-"}
    assert set(unmeasured) == {
        "notification_handlers.service.email_feedback",
        "notification_handlers.service.push_platforms",
        "notification_handlers.service.websocket_authorizer",
        "notification_handlers.service.websocket_connections",
    }
    assert all(
        why.startswith("off the delivery path: runs per") or "Terraform" in why for why in unmeasured.values()
    )
    assert any("no batch form for distinct messages" in note for note in section.notes)
    assert any("PublishBatch" in note for note in section.notes)


def test_service_steps_are_counted_against_their_batch_bounds(quick_report: runner.Report) -> None:
    """Two notifications in one SQS batch: every router and email-worker step at its bound, none unclaimed."""
    [section] = [s for s in quick_report.sections if s.key == "api_calls"]
    one_recipient, ten_recipients, _ = ROUTER_WORKLOADS
    assert section.data[f"{one_recipient.key}/2/lookups (profiles, preferences)"] == {
        "calls": 2,
        "lower_bound": 2,
    }
    assert section.data[f"{one_recipient.key}/2/fan-out to channel queues"] == {"calls": 1, "lower_bound": 1}
    assert section.data[f"{one_recipient.key}/2/idempotency"] == {"calls": 4, "lower_bound": 4}
    assert section.data[f"{ten_recipients.key}/2/fan-out to channel queues"] == {"calls": 2, "lower_bound": 2}
    assert section.data[f"{one_recipient.key}/2/catalog and channel switches"] == {
        "calls": 2,
        "lower_bound": 2,
    }
    [fallback] = ROUTER_FALLBACK_WORKLOADS  # both recipients without a device: push probed, then email
    assert section.data[f"{fallback.key}/2/catalog, switches, push probe"] == {"calls": 4, "lower_bound": 4}
    assert section.data[f"{fallback.key}/2/lookups and email probe"] == {"calls": 4, "lower_bound": 4}
    assert section.data[f"{fallback.key}/2/fallback_used rows"] == {"calls": 1, "lower_bound": 1}
    assert section.data[f"{fallback.key}/2/fan-out to channel queues"] == {"calls": 1, "lower_bound": 1}
    # Both recipients in quiet hours: their push messages held, one schedule each, nothing fanned out now.
    assert section.data[f"{QUIET_HOURS_ROUTER.key}/2/hold"] == {"calls": 2, "lower_bound": 2}
    assert section.data[f"{QUIET_HOURS_ROUTER.key}/2/deferred_quiet_hours rows"] == {
        "calls": 1,
        "lower_bound": 1,
    }
    assert section.data[f"{EMAIL_WORKER.key}/2/deliveries"] == {"calls": 2, "lower_bound": 2}
    assert section.data[f"{EMAIL_WORKER.key}/2/delivery log"] == {"calls": 1, "lower_bound": 1}
    assert section.data[f"{WEBSOCKET_WORKER.key}/2/deliveries"] == {"calls": 4, "lower_bound": 4}
    assert section.data[f"{WEBSOCKET_WORKER.key}/2/connection lookups"] == {"calls": 2, "lower_bound": 2}
    assert section.data[f"{PUSH_WORKER.key}/2/deliveries"] == {"calls": 4, "lower_bound": 4}
    assert section.data[f"{PUSH_WORKER.key}/2/delivery log"] == {"calls": 1, "lower_bound": 1}
    assert not [key for key in section.data if key.endswith("(unclaimed)")]
    # Digests: each of the 2 events is the first of its user's window: its refused append returns the item
    # (no GetItem), the schedule is made, then the append: one write per window beyond 3 per notification.
    assert section.data[f"{DIGEST_ROUTER.key}/2/claim, collect, complete"] == {"calls": 8, "lower_bound": 8}
    assert section.data[f"{DIGEST_ROUTER.key}/2/schedule"] == {"calls": 2, "lower_bound": 2}
    assert "every step within 1.00x" in section.headline


def test_fanout_posts_once_per_connection_and_deletes_only_the_stale(quick_report: runner.Report) -> None:
    [section] = [s for s in quick_report.sections if s.key == "fanout"]
    figures = section.data
    assert figures["connections"] == 100 and figures["stale"] == 5
    assert figures["scans"] == 0
    assert figures["calls"]["apigatewaymanagementapi.PostToConnection"] == 100
    assert figures["posts_per_connection"] == [1]
    assert figures["delete_calls"] == figures["delete_lower_bound"] == 1
    assert (figures["stale_left"], figures["live_removed"]) == (0, 0)


def test_every_section_says_when_and_under_what_load_it_was_measured(quick_report: runner.Report) -> None:
    markdown = render_markdown(quick_report)
    measured = [s.measured for s in quick_report.sections]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC; 1-minute load average .+ cores.*", m) for m in measured
    )
    assert markdown.count("\nMeasured: ") == len(quick_report.sections)


def test_a_busy_machine_is_named_in_the_conditions() -> None:
    started = datetime(2026, 12, 5, 18, 42, tzinfo=UTC)
    cores = int(environment.machine()["CPU cores (logical)"])
    assert "busy machine" in runner.conditions(started, cores * 1.5, 0.1)
    assert "busy machine" not in runner.conditions(started, 0.0, cores * 0.5)


def test_only_re_measures_the_named_sections_and_carries_the_others_over(
    quick_report: runner.Report, tmp_path: Path
) -> None:
    markdown, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    earlier = replace(
        quick_report, sections=tuple(replace(s, measured="then") for s in quick_report.sections)
    )
    write(earlier, markdown, raw)
    again = runner.run(quick=True, with_terraform=False, previous_json=raw, only=("package_size",))
    by_key = {s.key: s for s in again.sections}
    assert [s.key for s in again.sections] == list(runner.SECTION_KEYS)
    for section in earlier.sections:
        if section.key != "package_size":
            assert by_key[section.key] == section  # rows, notes, data and its own measured line
    assert by_key["package_size"].measured != "then"
    assert by_key["package_size"].data == {s.key: s for s in earlier.sections}["package_size"].data


def test_only_refuses_to_carry_over_a_section_the_previous_run_lacks(tmp_path: Path) -> None:
    with pytest.raises(runner.MissingSectionError, match="'api_calls' is not re-measured"):
        runner.run(
            quick=True, with_terraform=False, previous_json=tmp_path / "none.json", only=("package_size",)
        )


def test_handler_logs_are_silenced_while_measuring_and_given_back_after() -> None:
    # The handler modules share three stream handlers (one per service name).
    modules = [importlib.import_module(name) for name in environment.handler_module_names()]
    before = [module.logger.registered_handler.stream for module in modules]
    with environment.offline_aws({}):
        assert {module.logger.registered_handler.stream.name for module in modules} == {os.devnull}
    assert [module.logger.registered_handler.stream for module in modules] == before
    assert None not in before


def test_counter_sees_every_call_and_nothing_else() -> None:
    counter = api_calls.count_calls(S3_OBJECT_NOTIFIER, 3)
    assert counter.calls == ["sesv2.SendEmail"] * 3
    assert [params["Destination"]["ToAddresses"] for _, _, params in counter.params] == [
        ["ops@example.com", "audit@example.com"]
    ] * 3
    assert counter.tally(ROOT_ACTIVITY.steps) == {"delivery": 0, "(unclaimed)": 3}


def test_cold_start_and_package_rows(quick_report: runner.Report) -> None:
    sections = {s.key: s for s in quick_report.sections}
    modules = [row[0] for row in sections["cold_start"].rows]
    assert {
        "notification_handlers.root_activity",
        "notification_handlers.s3_object_notifier",
        "notification_handlers.service.router",
        "notification_handlers.service.email_worker",
    } <= set(modules)
    assert all(row[4] == "25 ms" for row in sections["cold_start"].rows)
    components = [row[0] for row in sections["package_size"].rows]
    assert {"rsa", "tzdata", "handlers' own code"} <= set(components)
    assert components[-1] == "total (entries)"
    invocation_inputs = [(row[0], row[1], row[2]) for row in sections["invocation"].rows]
    assert invocation_inputs[:4] == [
        ("root-activity monitor", "1 event", "1"),
        ("root-activity monitor", "2 events", "2"),
        ("S3 object notifier", "1 record", "1"),
        ("S3 object notifier", "2 records", "2"),
    ]
    assert [row[0] for row in sections["invocation"].rows[4:]] == [
        workload.label for workload in QUICK_WORKLOADS[2:] for _ in (1, 2)
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("rsa/pkcs1.py", "rsa"),
        ("rsa/__pycache__/__init__.cpython-312.pyc", "rsa"),
        ("rsa-4.7.2.dist-info/METADATA", "rsa"),
        ("six.py", "six"),
        ("__pycache__/six.cpython-312.pyc", "six"),
        ("notification_handlers/service/router.py", "handlers' own code"),
    ],
)
def test_each_zip_entry_counts_for_its_library(entry: str, expected: str) -> None:
    assert package_size.component(entry) == expected


def test_terraform_figures_are_carried_over_with_their_date(
    quick_report: runner.Report, tmp_path: Path
) -> None:
    figures = {
        "measured_on": "2030-01-02",
        "examples": {
            "root-activity-monitor": {
                "timings_s": dict.fromkeys(terraform.STEPS, 1.5),
                "resources_created": 7,
            }
        },
    }
    previous = tmp_path / "benchmarks.json"
    previous.write_text(json.dumps({"sections": {"terraform": figures}}))
    carried = terraform.section(terraform.previous_figures(previous), carried_over=True)
    assert carried.rows == (("root-activity-monitor", "1.5 s", "1.5 s", "1.5 s", "1.5 s", "6.0 s", "7"),)
    assert "Carried over from the `--terraform` run of 2030-01-02" in carried.description
    markdown, raw = tmp_path / "benchmarks.md", tmp_path / "out.json"
    write(quick_report, markdown, raw)
    assert json.loads(raw.read_text()) == json.loads(render_json(quick_report))
    assert markdown.read_text().startswith("# Benchmarks")
