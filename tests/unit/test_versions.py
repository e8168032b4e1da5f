"""Version floors and provider hygiene of every Terraform configuration in the repository.

Registry consumers combine our modules with their own constraints, so a module may only state the lowest
Terraform and AWS provider versions it needs (`>=`), never an upper bound, an exact pin or `~>`. The
toolkit depends on `hashicorp/aws` only. Arguments that provider 6.x deprecates or removes are rejected, so
the modules keep working, warning-free, on 5.x and 6.x. Directories are discovered: new modules are covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_PARTS = {".terraform", ".venv", ".git", ".cache", "build", "node_modules", "__pycache__"}
OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)

CONFIG_DIRS = [
    ROOT,
    *sorted(d for d in (ROOT / "modules").glob("*") if list(d.glob("*.tf"))),
    *sorted(d for d in (ROOT / "examples").glob("*") if list(d.glob("*.tf"))),
]
TF_FILES = sorted(
    p for p in ROOT.rglob("*.tf") if not SKIPPED_PARTS.intersection(p.relative_to(ROOT).parts) and p.is_file()
)

LOWER_BOUND = re.compile(r"^>=\s*\d+(\.\d+){0,2}$")
# data.aws_region.<name>[...].name: deprecated in provider 6.x; `.id` is the region name on 5.x and 6.x alike
# (`.region` does not exist on 5.x).
REGION_NAME = re.compile(r"\bdata\.aws_region\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.name\b")
# resource type -> arguments deprecated in provider 5.x and going (or gone) in 6.x, with the replacement.
DEPRECATED_ARGUMENTS = {
    "aws_cloudwatch_event_rule": {"is_enabled": "state"},
    "aws_iam_role": {
        "inline_policy": "aws_iam_role_policy",
        "managed_policy_arns": "inline aws_iam_role_policy (no managed policies)",
    },
}
BUILTIN_RESOURCE_TYPES = {"terraform_data"}


@cache
def _parse(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=OPTIONS)
    return parsed


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) or "."


def _labelled(entries: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in entries:
        for key, body in entry.items():
            if not key.startswith("__"):
                yield key, body


def _required_providers(path: Path) -> Iterator[tuple[str, Any]]:
    for terraform in _parse(path).get("terraform", []):
        for block in terraform.get("required_providers", []):
            yield from ((k, v) for k, v in block.items() if not k.startswith("__"))


def _terraform_settings(directory: Path) -> tuple[list[str], dict[str, Any]]:
    versions: list[str] = []
    providers: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for terraform in _parse(path).get("terraform", []):
            if "required_version" in terraform:
                versions.append(terraform["required_version"])
        providers.update(_required_providers(path))
    return versions, providers


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_discovery_finds_the_configurations() -> None:
    names = {_rel(d) for d in CONFIG_DIRS}
    assert {
        ".",
        "modules/kms-key",
        "modules/root-activity-monitor",
        "examples/root-activity-monitor",
    } <= names
    assert all((d / "versions.tf").is_file() for d in CONFIG_DIRS), "every configuration needs a versions.tf"


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=_rel)
def test_version_floors(directory: Path) -> None:
    versions, providers = _terraform_settings(directory)
    assert len(versions) == 1, f"{_rel(directory)}: exactly one required_version, got {versions}"
    assert LOWER_BOUND.match(versions[0]), (
        f"{_rel(directory)}: required_version {versions[0]!r} must be a single '>= X.Y' lower bound"
    )
    assert set(providers) == {"aws"}, (
        f"{_rel(directory)}: required_providers must declare aws only: {providers}"
    )
    aws = providers["aws"]
    assert isinstance(aws, dict), f"{_rel(directory)}: use aws = {{ source = ..., version = ... }}"
    assert aws.get("source") == "hashicorp/aws"
    assert LOWER_BOUND.match(aws.get("version", "")), (
        f"{_rel(directory)}: aws version {aws.get('version')!r} must be a single '>= X.Y' lower bound "
        "(no upper bound, no '=' pin, no '~>')"
    )


@pytest.mark.parametrize(
    "constraint", [">= 5.31", ">=1.5", ">= 5", ">= 5.100.0"], ids=lambda c: f"accept[{c}]"
)
def test_lower_bound_pattern_accepts(constraint: str) -> None:
    assert LOWER_BOUND.match(constraint)


@pytest.mark.parametrize(
    "constraint",
    ["~> 5.0", "= 5.31.0", "5.31.0", ">= 5.31, < 6.0", "< 6.0", "> 5.0", ">= 5.31-beta", ""],
    ids=lambda c: f"reject[{c}]",
)
def test_lower_bound_pattern_rejects(constraint: str) -> None:
    assert not LOWER_BOUND.match(constraint)


def test_only_the_aws_provider_anywhere() -> None:
    offenders = []
    for path in TF_FILES:
        parsed = _parse(path)
        offenders += [
            f"{_rel(path)}: required_providers {n}" for n, _ in _required_providers(path) if n != "aws"
        ]
        offenders += [
            f"{_rel(path)}: provider {n!r}" for n, _ in _labelled(parsed.get("provider", [])) if n != "aws"
        ]
        for mode in ("resource", "data"):
            for rtype, _ in _labelled(parsed.get(mode, [])):
                if not rtype.startswith("aws_") and rtype not in BUILTIN_RESOURCE_TYPES:
                    offenders.append(f"{_rel(path)}: {mode} {rtype} needs a provider other than aws")
    assert TF_FILES, "no .tf files found"
    assert offenders == []


def test_no_deprecated_region_name() -> None:
    offenders = [
        f"{_rel(path)}: {match.group(0)}"
        for path in TF_FILES
        for text in _strings(_parse(path))
        for match in REGION_NAME.finditer(text)
    ]
    assert offenders == [], "use data.aws_region.<name>.id (region name on provider 5.x and 6.x)"


def test_region_name_pattern() -> None:
    assert REGION_NAME.search("${try(data.aws_region.current[0].name, null)}")
    assert REGION_NAME.search("arn:aws:logs:${data.aws_region.this.name}:1:x")
    assert not REGION_NAME.search("${try(data.aws_region.current[0].id, null)}")
    assert not REGION_NAME.search("${data.aws_region.current.name_prefix}")


def test_no_arguments_deprecated_in_provider_6() -> None:
    offenders = []
    for path in TF_FILES:
        for rtype, named in _labelled(_parse(path).get("resource", [])):
            for name, body in _labelled([named]):
                for argument, replacement in DEPRECATED_ARGUMENTS.get(rtype, {}).items():
                    if argument in body:
                        offenders.append(f"{_rel(path)}: {rtype}.{name}.{argument} (use {replacement})")
    assert offenders == []
