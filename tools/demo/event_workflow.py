"""Event workflow: three events start three executions; Path A and B succeed, C fails."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from tools.emulator.server import Emulator

EXAMPLE = "event-workflow"
TITLE = "Event workflow: EventBridge rule -> Step Functions (CMK-encrypted, logged, traced)"
VARIABLES = {"name": "event-workflow-demo"}
ENTRIES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cli" / "event_workflow_entries.json"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _wait_for(sfn: Any, arns: list[str], timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        described = [sfn.describe_execution(executionArn=arn) for arn in arns]
        if all(d["status"] in TERMINAL for d in described) or time.monotonic() > deadline:
            return described
        time.sleep(0.2)


def _executions(sfn: Any, state_machine_arn: str) -> set[str]:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    return {e["executionArn"] for page in pages for e in page["executions"]}


def _put(emulator: Emulator, bus: str, entries: list[dict[str, str]]) -> dict[str, str]:
    """Put the entries; returns event ID -> detail.Path."""
    answer = emulator.client("events").put_events(Entries=[{**e, "EventBusName": bus} for e in entries])
    return {
        result["EventId"]: json.loads(entry["Detail"]).get("Path", "?")
        for result, entry in zip(answer["Entries"], entries, strict=True)
        if "EventId" in result
    }


def show(emulator: Emulator, outputs: dict[str, Any]) -> None:
    # moto's interpreter logs every Fail state as an ERROR with its internals; the demo prints the outcome.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    sfn = emulator.client("stepfunctions")
    machine = outputs["state_machine_arn"]
    print(
        f"    rule     {outputs['rule_name']} on bus {outputs['event_bus_name']}: {outputs['event_pattern']}"
    )
    print(f"    workflow {machine}")
    print(f"    logs     {outputs['log_group_name']} (KMS {outputs['kms_key_arn']})")
    entries: list[dict[str, str]] = json.loads(ENTRIES.read_text())
    print(f"==> put-events with {ENTRIES.name}: {len(entries)} events from demo.sfn", flush=True)
    for entry in entries:
        print(f"    {entry['Source']} / {entry['DetailType']} / {entry['Detail']}")
    before = _executions(sfn, machine)
    paths = _put(emulator, outputs["event_bus_name"], entries)
    for execution in sorted(
        _wait_for(sfn, sorted(_executions(sfn, machine) - before)),
        key=lambda e: paths.get(json.loads(e["input"])["id"], "?"),
    ):
        path = paths.get(json.loads(execution["input"])["id"], "?")
        if execution["status"] == "SUCCEEDED":
            ended = f"ended in Path{json.loads(execution['output'])['path']}"
        else:
            ended = f"error {execution.get('error')}: {execution.get('cause')}"
        print(f"    Path {path}: execution {execution['name']} {execution['status']} ({ended})")
    print("==> an event from another source (demo.other)", flush=True)
    before = _executions(sfn, machine)
    _put(
        emulator,
        outputs["event_bus_name"],
        [{"Source": "demo.other", "DetailType": "message", "Detail": json.dumps({"Path": "A"})}],
    )
    started = _executions(sfn, machine) - before
    print("    the rule did not match: no execution" if not started else f"    UNEXPECTED: {started}")
