"""Section 6: Terraform init/plan/apply/destroy wall time of every example against the emulator.

Slow (a minute or two per example: each SQS queue costs a fixed ~25 s wait inside the provider), so it
is opt-in: ``make bench TERRAFORM=1`` (``python -m tools.bench --terraform``). The examples run one
after another, each with its ``make demo`` variables (``tools/demo``), against one emulator started
here. Without the flag the figures of the last ``--terraform`` run are carried over from
``docs/benchmarks.json``, labelled with their date, so regenerating the report never loses them and never
invents them. (The e2e tests print their own timings, but only under ``pytest -s`` and with two
examples applying at once, so they are not comparable and are not read.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bench.report import Section
from tools.demo import PATTERNS, deployment_variables, load, start_emulator

COMMAND = "make bench TERRAFORM=1  (python -m tools.bench --terraform)"
STEPS = ("init", "plan", "apply", "destroy")


def _timed(timings: dict[str, float], step: str, action: Callable[[], Any]) -> Any:
    started = time.monotonic()
    try:
        return action()
    finally:
        timings[step] = round(time.monotonic() - started, 1)


def run_examples(patterns: tuple[str, ...] = PATTERNS) -> dict[str, Any]:
    """Apply and destroy every pattern's example in turn; the timings and resource counts of each."""
    from tools.emulator.terraform import ExampleWorkspace, use_terraform_env  # noqa: PLC0415 - opt-in measure

    use_terraform_env()
    emulator = start_emulator()
    examples: dict[str, Any] = {}
    try:
        for name in patterns:
            pattern = load(name)
            workspace = ExampleWorkspace.create(
                pattern.EXAMPLE, emulator.provider_override(), deployment_variables(pattern, emulator)
            )
            timings: dict[str, float] = {}
            try:
                _timed(timings, "init", workspace.init)
                plan = _timed(timings, "plan", workspace.plan)
                created = [
                    change["address"]
                    for change in plan.document.get("resource_changes", [])
                    if change.get("mode") == "managed" and change["change"]["actions"] == ["create"]
                ]
                _timed(timings, "apply", workspace.apply)
                _timed(timings, "destroy", workspace.destroy)
            finally:
                workspace.remove()
            examples[pattern.EXAMPLE] = {"timings_s": timings, "resources_created": len(created)}
            print(f"  terraform {pattern.EXAMPLE}: {timings}, {len(created)} resources", flush=True)
    finally:
        emulator.stop()
    return {"measured_on": datetime.now(UTC).date().isoformat(), "examples": examples}


def previous_figures(raw_report: Path) -> dict[str, Any] | None:
    """The Terraform figures of the last ``--terraform`` run, from the committed docs/benchmarks.json."""
    try:
        document = json.loads(raw_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    figures = document.get("sections", {}).get("terraform")
    return figures if isinstance(figures, dict) and figures.get("examples") else None


def section(figures: dict[str, Any] | None, carried_over: bool) -> Section:
    description = (
        "Wall time of each Terraform step for every example against the local emulator (moto server"
        " in-process), examples one after another, and the managed resources the plan creates. `plan`"
        " includes reading the saved plan back with `terraform show -json`."
    )
    if figures is None:
        return Section(
            key="terraform",
            title="Terraform against the emulator",
            command=COMMAND,
            description=description,
            headers=("Example", "Result"),
            rows=(
                ("every example", "not measured: run `make bench TERRAFORM=1` (about 2 minutes per example)"),
            ),
            data={},
            headline="not measured in this run (`make bench TERRAFORM=1`)",
        )
    if carried_over:
        description += (
            f" Carried over from the `--terraform` run of {figures['measured_on']}: this run did not apply"
            " the examples."
        )
    rows = []
    for example in sorted(figures["examples"]):
        entry = figures["examples"][example]
        timings = entry["timings_s"]
        rows.append(
            (
                example,
                *(f"{timings[step]:.1f} s" for step in STEPS),
                f"{sum(timings[step] for step in STEPS):.1f} s",
                str(entry["resources_created"]),
            )
        )
    return Section(
        key="terraform",
        title="Terraform against the emulator",
        command=COMMAND,
        description=description,
        headers=("Example", *STEPS, "total", "Resources created"),
        rows=tuple(rows),
        notes=(
            "Most of apply and destroy is the provider waiting (each SQS queue: a fixed ~25 s wait inside"
            " the provider), not the emulator's work.",
        ),
        data=figures,
        headline=(
            "apply "
            + ", ".join(
                f"{example} {figures['examples'][example]['timings_s']['apply']:.0f} s"
                for example in sorted(figures["examples"])
            )
            + f" (measured {figures['measured_on']})"
        ),
    )
