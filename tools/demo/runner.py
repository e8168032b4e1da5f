"""`make demo`: deploy each pattern's example to a local AWS emulator and show what it delivers.

Starts the emulator (moto, on 127.0.0.1), then for each pattern in ``tools/demo``: applies its example
with Terraform, lets the pattern's ``show()`` drive it and print the result, and destroys it. No AWS
account and no network are needed. ``make demo PATTERN=root_activity_monitor`` runs one pattern.

Usage: python -m tools.demo
"""

from __future__ import annotations

import os
import sys
import time

from tools.demo import PATTERNS, deployment_variables, load, start_emulator
from tools.emulator.server import Emulator
from tools.emulator.terraform import ExampleWorkspace, use_terraform_env


def step(message: str) -> float:
    print(f"==> {message}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)


def run_pattern(emulator: Emulator, name: str) -> None:
    pattern = load(name)
    print(f"\n##### {pattern.TITLE}", flush=True)
    variables = deployment_variables(pattern, emulator)
    workspace = ExampleWorkspace.create(pattern.EXAMPLE, emulator.provider_override(), variables)
    succeeded = False
    try:
        started = step(f"terraform init examples/{pattern.EXAMPLE} (offline: provider from the local mirror)")
        workspace.init()
        done(started)
        started = step(f"terraform apply examples/{pattern.EXAMPLE} (a minute or two: SQS queues are slow)")
        workspace.apply()
        done(started)
        pattern.show(emulator, workspace.outputs())
        succeeded = True
    finally:
        started = step(f"terraform destroy examples/{pattern.EXAMPLE}")
        workspace.destroy()
        done(started)
        if succeeded:
            workspace.remove()
        else:
            print(f"    kept the Terraform log for you: {workspace.log}")


def main() -> int:
    use_terraform_env()
    chosen = [os.environ["PATTERN"]] if os.environ.get("PATTERN") else list(PATTERNS)
    unknown = set(chosen) - set(PATTERNS)
    if unknown:
        print(f"unknown PATTERN {sorted(unknown)}; choose from {', '.join(PATTERNS)}", file=sys.stderr)
        return 2
    started = step("Starting the local AWS emulator (moto) on 127.0.0.1")
    emulator = start_emulator()
    print(f"    listening on {emulator.endpoint_url}")
    done(started)
    try:
        for name in chosen:
            run_pattern(emulator, name)
    finally:
        emulator.stop()
        print("\n==> Emulator stopped; everything the demo created is gone with it.")
    return 0
