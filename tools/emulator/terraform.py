"""Terraform runs against the emulator, through python-terraform, with its quirks hidden here.

python-terraform 0.10.1 with Terraform 1.11: ``plan()`` returns 2 for "changes present" (detailed exit
code), ``destroy()`` needs ``force=IsNotFlagged, auto_approve=IsFlagged`` (``-force`` no longer exists),
and ``output("name")`` raises TypeError, so outputs are read whole and indexed.

An example is never edited: it is copied into a temporary directory beside symlinks of ``modules/``,
``dist/`` and ``lambda_src/`` and a copy of the root module's ``*.tf`` (so its relative module sources,
including the root module's ``../..``, and package path resolve), and a ``emulator_override.tf`` — a
native Terraform override file — points its aws provider at the emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, IsNotFlagged, Terraform

from tools.ci.terraform_offline import REPO_ROOT, init_command, terraform_env


class TerraformError(RuntimeError):
    pass


@dataclass(frozen=True)
class Plan:
    """``terraform show -json`` of a saved plan, and the plan's human-readable text for messages."""

    document: dict[str, Any]
    text: str

    def changes(self) -> list[str]:
        """Addresses of resources the plan would create, update, replace or delete."""
        return [
            f"{change['address']}: {'/'.join(change['change']['actions'])}"
            for change in self.document.get("resource_changes", [])
            if change["change"]["actions"] not in (["no-op"], ["read"])
        ]

    def resources(self) -> Iterator[dict[str, Any]]:
        """Every resource and data source of the refreshed state, in every module."""
        modules = [self.document.get("prior_state", {}).get("values", {}).get("root_module", {})]
        while modules:
            module = modules.pop()
            yield from module.get("resources", [])
            modules += module.get("child_modules", [])


@dataclass
class ExampleWorkspace:
    """A temporary copy of ``examples/<name>`` wired to an emulator."""

    example: str
    directory: Path
    log: Path

    @classmethod
    def create(
        cls,
        example: str,
        provider_override: str,
        variables: dict[str, Any],
        source_root: Path = REPO_ROOT,
    ) -> ExampleWorkspace:
        root = Path(tempfile.mkdtemp(prefix=f"tf-{example}-"))
        for shared in ("modules", "dist", "lambda_src"):
            (root / shared).symlink_to(source_root / shared, target_is_directory=True)
        # The notification service is the repository's root module: its example's source is "../..". Copied,
        # like the example: a run sees one version of the module from init to destroy.
        for root_file in source_root.glob("*.tf"):
            shutil.copy2(root_file, root / root_file.name)
        directory = root / "examples" / example
        shutil.copytree(
            source_root / "examples" / example,
            directory,
            ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
        )
        (directory / "emulator_override.tf").write_text(provider_override)
        (directory / "terraform.tfvars.json").write_text(json.dumps(variables, indent=2))
        return cls(example=example, directory=directory, log=root / "terraform.log")

    def _terraform(self) -> Terraform:
        return Terraform(working_dir=str(self.directory))

    def _run(self, name: str, result: tuple[int, str, str], ok_codes: tuple[int, ...] = (0,)) -> int:
        code, out, err = result
        with self.log.open("a") as log:
            log.write(f"\n===== terraform {name} (exit {code})\n{out}\n{err}\n")
        if code not in ok_codes:
            raise TerraformError(f"terraform {name} failed in {self.directory} (exit {code}):\n{err or out}")
        return code

    def init(self) -> None:
        # python-terraform cannot add -plugin-dir; the offline init lives in tools/ci/terraform_offline.py.
        command = init_command()
        result = self._terraform().cmd("init", *command[2:], capture_output=True)
        self._run("init", result)

    def apply(self) -> None:
        result = self._terraform().apply(skip_plan=True, capture_output=True)
        self._run("apply", result)

    def plan(self) -> Plan:
        """A fresh plan, saved and read back through ``terraform show -json``."""
        plan_file = self.directory / "replan.tfplan"
        result = self._terraform().plan(capture_output=True, out=str(plan_file))
        self._run("plan", result, ok_codes=(0, 2))
        code, out, err = self._terraform().cmd("show", "-json", str(plan_file), capture_output=True)
        self._run("show -json", (code, "(plan JSON omitted)", err))
        return Plan(json.loads(out), text=result[1])

    def destroy(self) -> None:
        result = self._terraform().destroy(capture_output=True, force=IsNotFlagged, auto_approve=IsFlagged)
        code, _, err = result
        if code != 0 and "ResourceNotFoundException" in (err or ""):
            # The provider's SDK retried a delete whose first answer moto, busy, was slow to give: the retry
            # finds the resource gone and fails the destroy. Once more: the refresh then drops what is gone; a
            # real failure fails again.
            self._run("destroy (refused: a retried delete found nothing)", result, ok_codes=(code,))
            result = self._terraform().destroy(
                capture_output=True, force=IsNotFlagged, auto_approve=IsFlagged
            )
        self._run("destroy", result)

    def outputs(self) -> dict[str, Any]:
        values = self._terraform().output()
        if values is None:
            raise TerraformError(f"terraform output failed in {self.directory}")
        return {name: entry["value"] for name, entry in values.items()}

    def remove(self) -> None:
        shutil.rmtree(self.directory.parent.parent, ignore_errors=True)


def use_terraform_env() -> None:
    """python-terraform passes os.environ to terraform: make it the offline-friendly one."""
    env = terraform_env()
    os.environ.clear()
    os.environ.update(env)
