"""The consumer workflow shipped in examples/ci-pipeline/workflows: what each job may do, and in which order.

The roles of examples/ci-pipeline trust two OIDC subjects only: `repo:OWNER/REPO:pull_request` (plan) and
`repo:OWNER/REPO:environment:<name>` (apply). These tests keep the workflow consistent with that trust and
with the pipeline's promises: checks run without credentials, the plan job cannot enter an environment, the
apply job runs only on main inside the protected environment, and applies only a plan whose changes digest
equals the reviewed one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ci-pipeline"
WORKFLOW_PATH = EXAMPLE / "workflows" / "terraform.yml"


def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW_PATH.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    loaded["on"] = loaded.pop(True)
    return loaded


WORKFLOW = _load()
JOBS: dict[str, dict[str, Any]] = WORKFLOW["jobs"]


def _runs(job: str) -> list[str]:
    return [step["run"] for step in JOBS[job]["steps"] if "run" in step]


def _index(job: str, needle: str) -> int:
    """Index of the first step of `job` whose `run` or `uses` contains `needle`."""
    for index, step in enumerate(JOBS[job]["steps"]):
        if needle in str(step.get("run", "")) or needle in str(step.get("uses", "")):
            return index
    raise AssertionError(f"job {job!r} has no step with {needle!r}")


def _credentials(job: str) -> dict[str, Any]:
    steps = [
        s
        for s in JOBS[job]["steps"]
        if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(steps) == 1, f"job {job!r} must configure AWS credentials exactly once"
    inputs: dict[str, Any] = steps[0]["with"]
    return inputs


def _example_default(variable: str) -> Any:
    options = hcl2.SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)
    parsed = hcl2.loads((EXAMPLE / "variables.tf").read_text(encoding="utf-8"), serialization_options=options)
    for entry in parsed["variable"]:
        for name, body in entry.items():
            if name.strip('"') == variable:
                return body["default"]
    raise AssertionError(f"examples/ci-pipeline has no variable {variable!r}")


def test_triggers_are_pull_requests_and_pushes_to_main_only() -> None:
    assert set(WORKFLOW["on"]) == {"pull_request", "push"}
    assert WORKFLOW["on"]["push"] == {"branches": ["main"]}
    # pull_request_target would hand the base repository's token and id-token to a fork's code.
    assert "pull_request_target" not in WORKFLOW_PATH.read_text(encoding="utf-8")
    assert WORKFLOW["permissions"] == {}
    assert WORKFLOW["defaults"]["run"]["shell"] == "bash"  # -e -o pipefail


def test_checks_run_without_credentials_before_the_plan() -> None:
    checks = JOBS["checks"]
    assert checks["permissions"] == {"contents": "read"}
    assert "environment" not in checks
    order = [
        _index("checks", "terraform fmt -check"),
        _index("checks", "terraform init -backend=false"),
        _index("checks", "terraform validate"),
        _index("checks", "terraform test"),
        _index("checks", "checkov -d ."),
    ]
    assert order == sorted(order)
    assert not any(str(s.get("uses", "")).startswith("aws-actions/") for s in checks["steps"])
    assert JOBS["plan"]["needs"] == "checks"


def test_plan_job_gets_the_plan_role_through_oidc_on_pull_requests_only() -> None:
    plan = JOBS["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert plan["permissions"] == {"id-token": "write", "contents": "read", "pull-requests": "write"}
    # With an environment the token's sub would name it instead of pull_request.
    assert "environment" not in plan
    credentials = _credentials("plan")
    assert credentials["role-to-assume"] == "${{ vars.TF_PLAN_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(credentials)
    assert _index("plan", "configure-aws-credentials") < _index("plan", "terraform plan -out=tfplan")


def test_plan_job_saves_uploads_and_summarises_the_plan() -> None:
    assert _index("plan", "terraform plan -out=tfplan") < _index("plan", "terraform show -no-color tfplan")
    upload = JOBS["plan"]["steps"][_index("plan", "actions/upload-artifact@")]
    assert "tfplan" in upload["with"]["path"].split() and "plan.sha256" in upload["with"]["path"].split()
    assert upload["with"]["name"] == "terraform-plan-pr-${{ github.event.pull_request.number }}"
    render = JOBS["plan"]["steps"][_index("plan", "terraform show -no-color tfplan")]["run"]
    assert "$GITHUB_STEP_SUMMARY" in render and '"$PLAN_CHANGES_FILTER"' in render
    comment = JOBS["plan"]["steps"][_index("plan", "actions/github-script@")]
    assert "plan.txt" in comment["with"]["script"]


def test_apply_job_runs_on_main_in_the_protected_environment_with_the_apply_role() -> None:
    apply = JOBS["apply"]
    assert apply["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    # The environment the apply role trusts (the example's default github_environment).
    assert apply["environment"] == _example_default("github_environment")
    assert [name for name, job in JOBS.items() if "environment" in job] == ["apply"]
    assert apply["permissions"] == {
        "id-token": "write",
        "contents": "read",
        "actions": "read",
        "pull-requests": "read",
    }
    assert apply["concurrency"] == {"group": "terraform-apply", "cancel-in-progress": False}
    assert _credentials("apply")["role-to-assume"] == "${{ vars.TF_APPLY_ROLE_ARN }}"


def test_apply_applies_only_the_plan_whose_digest_equals_the_reviewed_one() -> None:
    fetch = _index("apply", "gh run download")
    compare = _index("apply", '[ "$digest" != "$reviewed" ]')
    apply = _index("apply", "terraform apply")
    assert fetch < _index("apply", "configure-aws-credentials") < compare < apply
    compare_script = JOBS["apply"]["steps"][compare]["run"]
    assert "terraform plan -out=tfplan" in compare_script and "exit 1" in compare_script
    # A saved plan, never a fresh one: `terraform apply tfplan` (and no -auto-approve anywhere).
    assert JOBS["apply"]["steps"][apply]["run"].split()[-1] == "tfplan"
    assert "auto-approve" not in WORKFLOW_PATH.read_text(encoding="utf-8")


def test_every_action_is_pinned_to_a_version() -> None:
    uses = [str(step["uses"]) for job in JOBS.values() for step in job["steps"] if "uses" in step]
    assert uses and all("@" in u and u.rsplit("@", 1)[1] for u in uses)


def _digest(plan: dict[str, Any]) -> str:
    jq = shutil.which("jq")
    assert jq is not None
    output = subprocess.run(
        [jq, "-S", "-c", WORKFLOW["env"]["PLAN_CHANGES_FILTER"]],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return hashlib.sha256(output.encode()).hexdigest()


def _change(address: str, actions: list[str], after: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": address,
        "change": {"actions": actions, "before": None, "after": after, "after_unknown": {}},
    }


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_changes_digest_ignores_order_and_no_ops_and_sees_every_change() -> None:
    queue = _change("aws_sqs_queue.jobs", ["create"], {"name": "jobs", "delay_seconds": 0})
    topic = _change("aws_sns_topic.alerts", ["update"], {"name": "alerts"})
    untouched = _change("aws_s3_bucket.state", ["no-op"], {"bucket": "state"})
    reviewed = {"resource_changes": [queue, topic], "output_changes": {}}
    assert _digest(reviewed) == _digest({"resource_changes": [untouched, topic, queue], "output_changes": {}})
    # The state a plan refreshed against (before) does not matter; what it would do does.
    drifted_before = json.loads(json.dumps(topic))
    drifted_before["change"]["before"] = {"name": "alerts-old"}
    assert _digest(reviewed) == _digest({"resource_changes": [queue, drifted_before]})
    changed = _change("aws_sqs_queue.jobs", ["create"], {"name": "jobs", "delay_seconds": 5})
    assert _digest(reviewed) != _digest({"resource_changes": [changed, topic]})
    replaced = _change("aws_sqs_queue.jobs", ["delete", "create"], queue["change"]["after"])
    assert _digest(reviewed) != _digest({"resource_changes": [replaced, topic]})
    extra = _change("aws_iam_role.admin", ["create"], {"name": "admin"})
    assert _digest(reviewed) != _digest({"resource_changes": [queue, topic, extra]})
    output = {
        "output_changes": {"url": {"actions": ["create"], "after": "https://x", "after_unknown": False}}
    }
    assert _digest(reviewed) != _digest(reviewed | output)
