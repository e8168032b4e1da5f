"""The GitHub Actions workflows: CI runs exactly `.ci/run` (= the README's `make test`), the release runs
tools/ci/release_check.py, and tools/ci/workflow_lint.py (in `make lint`) refuses what it says it refuses."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tools.ci import workflow_lint

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    return workflow_lint.load_workflow((WORKFLOWS / name).read_text(encoding="utf-8"))


def run_steps(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]).strip() for step in job["steps"] if "run" in step]


def uses_of(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(f"{action}@")]


# --- the repository's CI ---------------------------------------------------------------------------------


def test_the_ci_test_step_runs_exactly_ci_run_which_runs_make_test() -> None:
    ci = workflow("ci.yml")
    (job,) = ci["jobs"].values()
    suite_steps = [run for run in run_steps(job) if ".ci/run" in run or "make" in run.split()]

    assert suite_steps == [".ci/run"]
    ci_run = REPO_ROOT / ".ci" / "run"
    assert os.access(ci_run, os.X_OK)
    commands = [
        line.strip()
        for line in ci_run.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    # The script's only command beyond shell options and cd is the README's "everything CI runs".
    assert commands[-1] == "make test"
    assert [c for c in commands if not c.startswith(("set ", "cd "))] == ["make test"]
    assert re.search(r"^make test\s+# everything CI runs$", (REPO_ROOT / "README.md").read_text(), re.M)


def test_ci_runs_on_pushes_to_main_and_on_pull_requests() -> None:
    on = workflow("ci.yml")["on"]

    assert on["push"] == {"branches": ["main"]}
    assert "pull_request" in on


def test_ci_reads_the_repository_only_and_cancels_superseded_pull_request_runs() -> None:
    ci = workflow("ci.yml")
    (job,) = ci["jobs"].values()

    assert ci["permissions"] == {"contents": "read"}
    assert "permissions" not in job
    # One group per pull request (a new push supersedes the run in progress), one per commit on main.
    assert "github.event.pull_request.number" in ci["concurrency"]["group"]
    assert "github.sha" in ci["concurrency"]["group"]
    assert ci["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert 0 < job["timeout-minutes"] <= 60


def test_ci_checks_out_the_whole_history_for_the_upgrade_test() -> None:
    (job,) = workflow("ci.yml")["jobs"].values()
    (checkout,) = uses_of(job, "actions/checkout")

    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False


def test_ci_sets_up_python_3_11_last_terraform_1_11_and_caches_venvs_and_the_provider() -> None:
    (job,) = workflow("ci.yml")["jobs"].values()

    pythons = [step["with"]["python-version"] for step in uses_of(job, "actions/setup-python")]
    assert pythons == ["3.12", "3.11"]  # the last one set up is python3: the virtualenvs' interpreter
    (terraform,) = uses_of(job, "hashicorp/setup-terraform")
    assert terraform["with"]["terraform_version"].startswith("1.11.")
    assert terraform["with"]["terraform_wrapper"] is False
    caches = {step["with"]["path"]: step["with"]["key"] for step in uses_of(job, "actions/cache")}
    assert "hashFiles('requirements-dev.txt')" in caches[".venv"]
    assert "hashFiles('requirements-checkov.txt')" in caches[".venv-checkov"]
    assert "~/.terraform.d/plugins" in caches  # Terraform's implied mirror: tools/ci/terraform_offline.py


# --- the release -----------------------------------------------------------------------------------------


def test_a_release_runs_on_version_tags_checks_first_and_only_its_creating_job_writes() -> None:
    release = workflow("release.yml")
    jobs = release["jobs"]

    assert release["on"] == {"push": {"tags": ["v*.*.*"]}}
    assert release["permissions"] == {"contents": "read"}
    assert any("tools/ci/release_check.py check" in run for run in run_steps(jobs["check"]))
    assert jobs["release"]["needs"] == "check"
    assert jobs["release"]["permissions"] == {"contents": "write"}
    assert [job_id for job_id, job in jobs.items() if "permissions" in job] == ["release"]
    (create,) = run_steps(jobs["release"])
    assert "tools/ci/release_check.py notes" in create
    assert "gh release create" in create


# --- the lint --------------------------------------------------------------------------------------------


def test_every_workflow_passes_the_lint() -> None:
    assert workflow_lint.main([]) == 0


def test_make_lint_runs_the_workflow_lint() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    lint_recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]

    assert "tools/ci/workflow_lint.py" in lint_recipe


CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"


def minimal(**job_changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "runs-on": "ubuntu-24.04",
        "timeout-minutes": 5,
        "steps": [{"uses": CHECKOUT}, {"id": "first", "run": "echo one"}],
    }
    job.update(job_changes)
    return {"on": {"push": None}, "permissions": {"contents": "read"}, "jobs": {"build": job}}


def test_a_minimal_workflow_has_no_problem() -> None:
    assert workflow_lint.check_workflow("w.yml", minimal()) == []


@pytest.mark.parametrize(
    ("job_changes", "expected"),
    [
        ({"steps": [{"uses": "actions/checkout@v4"}]}, "'actions/checkout@v4' is not pinned"),
        ({"steps": [{"uses": "actions/checkout@11bd719"}]}, "is not pinned"),
        ({"steps": [{"uses": "docker://alpine:3"}]}, "is not pinned"),
        ({"steps": [{"run": "echo ${{ github.head_ref }}"}]}, "'${{ }}' inside a script"),
        ({"steps": [{"run": "if true; then echo"}]}, "bash -n:"),
        ({"timeout-minutes": None}, "no timeout-minutes"),
        ({"needs": "lint"}, "needs 'lint', which is no job of this workflow"),
        (
            {
                "steps": [
                    {"if": "steps.later.outputs.x == 'y'", "run": "true"},
                    {"id": "later", "run": "true"},
                ]
            },
            "steps.later names no step with that id before this one",
        ),
        (
            {"steps": [{"run": "true", "env": {"X": "${{ needs.other.outputs.y }}"}}]},
            "needs.other is not in this job's needs",
        ),
        ({"steps": [{"run": "true", "env": {"X": "${{ gihtub.sha }}"}}]}, "unknown context 'gihtub'"),
        ({"steps": [{"run": "true", "env": {"X": "${{ hashfiles('a') }}"}}]}, "unknown function hashfiles()"),
        ({"steps": [{"run": "true", "env": {"X": "${{ github.sha }"}}]}, "unbalanced"),
        ({"steps": [{"id": "a", "run": "true"}, {"id": "a", "run": "true"}]}, "step id 'a' is used twice"),
        ({"permissions": "write-all"}, "write-all"),
    ],
)
def test_the_lint_refuses(job_changes: dict[str, Any], expected: str) -> None:
    changed = minimal(**job_changes)
    if changed["jobs"]["build"].get("timeout-minutes") is None:
        changed["jobs"]["build"].pop("timeout-minutes")

    messages = [problem.message for problem in workflow_lint.check_workflow("w.yml", changed)]

    assert any(expected in message for message in messages), messages


def test_the_lint_requires_top_level_permissions() -> None:
    without = minimal()
    del without["permissions"]

    (problem,) = workflow_lint.check_workflow("w.yml", without)
    assert "no top-level permissions" in problem.message


def test_a_script_in_another_shell_is_not_parsed_as_bash() -> None:
    python_step = minimal(steps=[{"shell": "python", "run": "print('if then')"}])

    assert workflow_lint.check_workflow("w.yml", python_step) == []


def test_the_schema_refuses_a_misspelt_key(tmp_path: Path) -> None:
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8").replace("timeout-minutes:", "timeout:", 1)
    bad = tmp_path / "bad.yml"
    bad.write_text(text, encoding="utf-8")

    report = workflow_lint.schema_problems([bad])

    assert report is not None
    assert "'timeout' was unexpected" in report
    assert workflow_lint.main([str(bad)]) == 1
