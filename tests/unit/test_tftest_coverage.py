"""Every validated module input is proven to refuse a bad value by a native `terraform test` run.

A `validation` block that no test exercises can be wrong in silence (an inverted condition, a regex that
accepts everything, a `can()` that never fails). For each module under `modules/`, for the repository's root
module (tests in `tests/*.tftest.hcl`) and for every example that has native tests, every variable with a
`validation` block must be the target of at least one `run` with `expect_failures = [var.<name>]` in the
module's `tests/*.tftest.hcl`, and a module without such test files fails outright. Modules are discovered, so
a new module is covered the moment it is added. Terraform itself checks that each of those runs does fail on
that variable (a run whose expected failure does not happen fails `make tftest`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "modules"
OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)


def _parse(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=OPTIONS)
    return parsed


def _labelled(entries: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in entries:
        for key, body in entry.items():
            if not key.startswith("__"):
                yield key.strip('"'), body


def module_dirs(root: Path = MODULES) -> list[Path]:
    """Directories directly under `root` that hold Terraform files."""
    return sorted(d for d in root.iterdir() if d.is_dir() and any(d.glob("*.tf")))


def validated_variables(module: Path) -> list[str]:
    """Names of the module's variables that have at least one `validation` block."""
    names: list[str] = []
    for path in sorted(module.glob("*.tf")):
        for name, body in _labelled(_parse(path).get("variable", [])):
            if body.get("validation"):
                names.append(name)
    return names


def tftest_files(module: Path) -> list[Path]:
    return sorted((module / "tests").glob("*.tftest.hcl"))


def expected_failures(module: Path) -> dict[str, list[str]]:
    """`expect_failures` target ("var.name", "aws_sns_topic.this") -> the `file:run` names expecting it."""
    targets: dict[str, list[str]] = {}
    for path in tftest_files(module):
        for run, body in _labelled(_parse(path).get("run", [])):
            for target in body.get("expect_failures", []):
                expression = str(target).strip()
                if expression.startswith("${") and expression.endswith("}"):
                    expression = expression[2:-1].strip()
                targets.setdefault(expression, []).append(f"{path.name}:{run}")
    return targets


def coverage_gaps(module: Path) -> list[str]:
    """One line per problem: no test files, or a validated variable no run expects to fail."""
    if not tftest_files(module):
        return [f"{module.name}: no tests/*.tftest.hcl (every module needs native terraform tests)"]
    covered = expected_failures(module)
    return [
        f"{module.name}: variable {name!r} has a validation block"
        f" but no run with expect_failures = [var.{name}]"
        for name in validated_variables(module)
        if f"var.{name}" not in covered
    ]


# The repository's modules


def test_modules_are_discovered() -> None:
    names = {d.name for d in module_dirs()}
    assert {"kms-key", "sns-topic", "sqs-queue", "lambda-function", "event-rule"} <= names


@pytest.mark.parametrize("module", module_dirs(), ids=lambda d: d.name)
def test_every_validated_variable_has_an_expect_failures_run(module: Path) -> None:
    assert validated_variables(module), f"{module.name} validates none of its inputs"
    gaps = coverage_gaps(module)
    assert not gaps, "\n".join(gaps)


def examples_with_native_tests(root: Path = ROOT / "examples") -> list[Path]:
    """Examples that hold `tests/*.tftest.hcl` (run by `make tftest`): covered like the modules."""
    return [d for d in module_dirs(root) if tftest_files(d)]


def test_examples_with_native_tests_are_discovered() -> None:
    assert "ci-pipeline" in {d.name for d in examples_with_native_tests()}


@pytest.mark.parametrize("example", examples_with_native_tests(), ids=lambda d: d.name)
def test_every_validated_variable_of_a_tested_example_has_an_expect_failures_run(example: Path) -> None:
    gaps = coverage_gaps(example)
    assert not gaps, "\n".join(gaps)


def test_root_module_validated_variables_have_expect_failures_runs() -> None:
    """The repository root is a module too (the notification service); its tests are tests/*.tftest.hcl."""
    assert validated_variables(ROOT), "the root module validates none of its inputs"
    gaps = coverage_gaps(ROOT)
    assert not gaps, "\n".join(gaps)


# The checker itself, on fixture modules


VARIABLES_TF = """
variable "name" {
  type = string

  validation {
    condition     = can(regex("^[a-z]+$", var.name))
    error_message = "name must be lowercase letters."
  }
}

variable "retention" {
  type    = number
  default = 30

  validation {
    condition     = contains([1, 30], var.retention)
    error_message = "retention must be 1 or 30."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
"""


def _fixture_module(tmp_path: Path, tests: dict[str, str] | None) -> Path:
    module = tmp_path / "modules" / "demo"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text(VARIABLES_TF, encoding="utf-8")
    (module / "main.tf").write_text('resource "terraform_data" "this" {}\n', encoding="utf-8")
    if tests is not None:
        (module / "tests").mkdir()
        for name, text in tests.items():
            (module / "tests" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return module


def test_module_without_tests_directory_is_reported(tmp_path: Path) -> None:
    module = _fixture_module(tmp_path, tests=None)
    assert module_dirs(tmp_path / "modules") == [module]
    assert coverage_gaps(module) == [
        "demo: no tests/*.tftest.hcl (every module needs native terraform tests)"
    ]


def test_tests_directory_without_tftest_files_is_reported(tmp_path: Path) -> None:
    module = _fixture_module(tmp_path, tests={"README.md": "nothing here\n"})
    assert coverage_gaps(module) == [
        "demo: no tests/*.tftest.hcl (every module needs native terraform tests)"
    ]


def test_each_uncovered_validated_variable_is_listed(tmp_path: Path) -> None:
    module = _fixture_module(
        tmp_path,
        tests={
            "demo.tftest.hcl": """
                run "plans" {
                  command = plan
                  # expect_failures = [var.retention] in a comment does not count
                }

                run "needs_a_resource" {
                  command         = plan
                  expect_failures = [terraform_data.this]
                }
            """
        },
    )
    assert validated_variables(module) == ["name", "retention"]
    assert coverage_gaps(module) == [
        "demo: variable 'name' has a validation block but no run with expect_failures = [var.name]",
        "demo: variable 'retention' has a validation block but no run with expect_failures = [var.retention]",
    ]


def test_runs_across_several_files_cover_the_module(tmp_path: Path) -> None:
    module = _fixture_module(
        tmp_path,
        tests={
            "a.tftest.hcl": """
                run "rejects_uppercase_name" {
                  command = plan
                  variables {
                    name = "Demo"
                  }
                  expect_failures = [var.name]
                }
            """,
            "b.tftest.hcl": """
                run "rejects_two_bad_inputs" {
                  command = plan
                  variables {
                    retention = 7
                  }
                  expect_failures = [var.retention, terraform_data.this]
                }
            """,
        },
    )
    assert expected_failures(module) == {
        "var.name": ["a.tftest.hcl:rejects_uppercase_name"],
        "var.retention": ["b.tftest.hcl:rejects_two_bad_inputs"],
        "terraform_data.this": ["b.tftest.hcl:rejects_two_bad_inputs"],
    }
    assert coverage_gaps(module) == []


def test_unvalidated_variables_need_no_run(tmp_path: Path) -> None:
    module = _fixture_module(
        tmp_path,
        tests={
            "demo.tftest.hcl": """
                run "name" {
                  command         = plan
                  variables {
                    name = "1"
                  }
                  expect_failures = [var.name]
                }
            """
        },
    )
    assert "tags" not in validated_variables(module)
    assert coverage_gaps(module) == [
        "demo: variable 'retention' has a validation block but no run with expect_failures = [var.retention]"
    ]
