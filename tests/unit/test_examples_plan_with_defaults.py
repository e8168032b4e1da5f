"""Every example plans as a consumer copies it: `terraform plan` with no -var at all.

The suite's deployments pass variables (push credentials, names); a default that does not plan would go
unseen. Each example found under examples/ (by globbing: a new example is covered without a change here) is
planned with its defaults only, by a native `run` whose `module` block points at the example, against the
shared mock provider (tests/terraform_mocks: offline, no emulator). Variable validations, preconditions and
the root module's checks of the example's inputs all run at plan, so a default they refuse fails here.

One test file per example, so that one example's failure does not skip the others (Terraform skips the rest
of a file after an error); the files are split over two `terraform test` processes, each with its own data
directory, that run at once (most of a process's time is the provider's start).
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.ci import terraform_offline

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.name for path in (ROOT / "examples").iterdir() if any(path.glob("*.tf")))
RUN = "plans_with_defaults"
PROCESSES = 2


def _test_file(example: str) -> str:
    # Paths are relative to the repository root, the module `terraform test` runs in.
    return (
        'mock_provider "aws" {\n  source = "./tests/terraform_mocks/aws"\n}\n\n'
        f'run "{RUN}" {{\n  command = plan\n\n  module {{\n    source = "./examples/{example}"\n  }}\n}}\n'
    )


def _plan(examples: list[str]) -> dict[str, list[str]]:
    """Plan ``examples`` in one `terraform test`: example -> its run's errors (none: the plan passed)."""
    with (
        tempfile.TemporaryDirectory(prefix=".plan-defaults-", dir=ROOT / "tests") as scratch,
        tempfile.TemporaryDirectory(prefix="tf-data-") as data_dir,
    ):
        for example in examples:
            (Path(scratch) / f"{example}.tftest.hcl").write_text(_test_file(example), encoding="utf-8")
        directory = Path(scratch).relative_to(ROOT).as_posix()
        # Its own data directory: the repository root's .terraform belongs to `make tftest`.
        env = {"TF_DATA_DIR": data_dir}
        test_directory = f"-test-directory={directory}"
        initialised = terraform_offline.init(ROOT, ["-backend=false", test_directory], env=env)
        assert initialised.returncode == 0, initialised.stdout + initialised.stderr
        completed = terraform_offline.run(["terraform", "test", "-json", test_directory], ROOT, env=env)
    errors: dict[str, list[str]] = {example: [] for example in examples}
    passed: set[str] = set()
    for line in completed.stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        example = Path(message.get("@testfile", "")).name.removesuffix(".tftest.hcl")
        diagnostic = message.get("diagnostic")
        if message.get("type") == "diagnostic" and diagnostic and diagnostic.get("severity") == "error":
            errors.setdefault(example, []).append(f"{diagnostic.get('summary')}: {diagnostic.get('detail')}")
        run = message.get("test_run", {})
        if message.get("type") == "test_run" and run.get("status") == "pass":
            passed.add(example)
    for example in examples:
        if example not in passed and not errors[example]:
            errors[example] = [f"no passing run: {completed.stdout[-2000:]}{completed.stderr[-2000:]}"]
    return errors


@pytest.fixture(scope="module")
def plan_errors() -> dict[str, list[str]]:
    chunks = [EXAMPLES[i::PROCESSES] for i in range(PROCESSES) if EXAMPLES[i::PROCESSES]]
    found: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        for errors in pool.map(_plan, chunks):
            found.update(errors)
    return found


def test_examples_are_found() -> None:
    assert "notification-service" in EXAMPLES and len(EXAMPLES) >= 5, EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_plans_with_its_default_variables(example: str, plan_errors: dict[str, list[str]]) -> None:
    assert plan_errors[example] == [], f"examples/{example} does not plan with no -var"
