"""The security gate of `make test`: checkov (`make security`) and the secret scan (`make secrets`).

These tests keep the gate from being dropped or weakened silently: `make test` must depend on both targets,
checkov must run offline over modules/ and examples/, every inline checkov skip must carry a reason and be
listed in SECURITY.md, every baseline entry of the secret scan must be an audited false positive, and the
scanner must reject a realistic AWS key anywhere while accepting the emulator's fake "testing" credentials.
"""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from tools.ci import checkov_summary, secret_scan

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
SECURITY_MD = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
SKIP = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9]+_\d+)(?::\s*(.*))?$")
BLOCK = re.compile(r'^(resource|data|module)\s+"([^"]+)"(?:\s+"([^"]+)")?\s*\{')


def target(name: str) -> tuple[list[str], str]:
    """Prerequisites and recipe of a Makefile target."""
    match = re.search(rf"^{re.escape(name)}:([^\n=]*)\n((?:\t[^\n]*\n|[ \t]*\n)*)", MAKEFILE, re.MULTILINE)
    assert match, f"Makefile has no {name!r} target"
    return match.group(1).split(), match.group(2)


def make_test_stages() -> list[set[str]]:
    """The targets `make test` runs, stage by stage: each recipe line's `$(MAKE) ... <targets>`, with a
    target that only runs others (offline-tests) replaced by those."""
    _, recipe = target("test")
    stages = []
    for line in recipe.splitlines():
        if "$(MAKE)" not in line:
            continue
        names = [word for word in line.split() if not word.startswith(("-", "$("))]
        stage: set[str] = set()
        for name in names:
            _, inner = target(name)
            runs_others = inner.strip().startswith("$(MAKE)")
            stage |= {w for w in inner.split() if not w.startswith(("-", "$("))} if runs_others else {name}
        stages.append(stage)
    return stages


def test_make_test_runs_the_security_and_secrets_targets() -> None:
    stages = make_test_stages()
    ran = set().union(*stages)
    assert {"security", "secrets", "lint", "docs-check", "validate", "tftest", "unit", "e2e"} <= ran
    # Cheap static gates run before (not beside) the slow Terraform and emulator stages.
    first = {name: next(i for i, stage in enumerate(stages) if name in stage) for name in ran}
    assert first["security"] < first["e2e"] and first["secrets"] < first["e2e"]
    assert first["security"] < first["validate"] and first["secrets"] < first["unit"]


def test_security_target_runs_checkov_offline_over_modules_and_examples() -> None:
    prerequisites, recipe = target("security")
    assert "venv-checkov" in prerequisites
    flags = re.search(r"^CHECKOV_FLAGS\s*:=((?:.*\\\n)*.*)$", MAKEFILE, re.MULTILINE)
    assert flags, "Makefile defines no CHECKOV_FLAGS"
    assert "--skip-download" in flags.group(1) and "--download-external-modules false" in flags.group(1)
    assert "--framework terraform" in flags.group(1)
    assert "--soft-fail" not in MAKEFILE
    assert re.search(r"for dir in modules examples", recipe)
    assert "$(CHECKOV) -d $$dir $(CHECKOV_FLAGS)" in recipe
    assert "tools/ci/checkov_summary.py build/checkov/modules.json build/checkov/examples.json" in recipe
    # checkov lives in its own virtualenv, with an exact pin.
    pins = (ROOT / "requirements-checkov.txt").read_text(encoding="utf-8")
    assert re.search(r"^checkov==\d+\.\d+\.\d+$", pins, re.MULTILINE)


def test_secrets_target_runs_the_scanner() -> None:
    _, recipe = target("secrets")
    assert "tools/ci/secret_scan.py" in recipe
    assert re.search(
        r"^detect-secrets==\d+\.\d+\.\d+$", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE
    )


def inline_skips() -> list[tuple[str, str, str, str]]:
    """(check id, file, block, reason) of every inline checkov skip: root module, modules/, examples/."""
    found = []
    for path in sorted([*ROOT.glob("*.tf"), *ROOT.glob("modules/**/*.tf"), *ROOT.glob("examples/**/*.tf")]):
        if ".terraform" in path.parts:
            continue
        block = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if opened := BLOCK.match(line):
                kind, first, second = opened.groups()
                block = {"resource": f"{first}.{second}", "data": f"data.{first}.{second}"}.get(
                    kind, f"module.{first}"
                )
            if skip := SKIP.search(line):
                assert block, f"{path}: checkov skip outside a block: {line.strip()}"
                found.append(
                    (skip.group(1), str(path.relative_to(ROOT)), block, (skip.group(2) or "").strip())
                )
    return found


def test_every_checkov_skip_has_a_reason_and_is_listed_in_security_md() -> None:
    skips = inline_skips()
    assert skips, "no inline skip found: the parser of this test is broken, or SECURITY.md needs updating"
    section = SECURITY_MD.split("## Checkov skips", 1)[1].split("\n## ", 1)[0]
    rows = {
        (m.group(1), m.group(2), m.group(3))
        for m in re.finditer(r"^\| `(CKV2?_[A-Z0-9]+_\d+)` \| `([^`]+)` `([^`]+)` \|", section, re.MULTILINE)
    }
    listed = {(check, path, block) for check, path, block, _ in skips}
    for check, path, block, reason in skips:
        assert len(reason) >= 30, f"{path} {block}: skip of {check} needs a real reason"
    assert listed == rows, f"SECURITY.md 'Checkov skips' table and inline skips differ: {listed ^ rows}"


def test_checkov_summary_fails_on_failed_checks_parsing_errors_and_empty_scans(tmp_path: Path) -> None:
    def report(name: str, **summary: int) -> str:
        full = {"passed": 10, "failed": 0, "skipped": 1, "parsing_errors": 0, "resource_count": 5} | summary
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps({"check_type": "terraform", "results": {"failed_checks": []}, "summary": full})
        )
        return str(path)

    assert checkov_summary.main([report("clean")]) == 0
    assert checkov_summary.main([report("failed", failed=1)]) == 1
    # checkov exits 0 when it cannot parse a file; the gate must not.
    assert checkov_summary.main([report("unparsed", parsing_errors=1)]) == 1
    assert checkov_summary.main([report("empty", passed=0, skipped=0, resource_count=0)]) == 1
    (tmp_path / "list.json").write_text(json.dumps([{"summary": {"passed": 1, "resource_count": 1}}]))
    assert checkov_summary.main([str(tmp_path / "list.json")]) == 0


def test_secrets_baseline_holds_only_audited_false_positives() -> None:
    baseline = json.loads((ROOT / ".secrets.baseline").read_text(encoding="utf-8"))
    entries = [(name, entry) for name, found in baseline["results"].items() for entry in found]
    assert entries
    assert all(entry.get("is_secret") is False for _, entry in entries), "audit every baseline entry"
    # Only fixtures of real AWS event shapes may hold accepted findings, and the verification code alphabet
    # (Crockford's base32, high entropy by construction; SECURITY.md lists it).
    assert {name for name, _ in entries} <= {
        p.relative_to(ROOT).as_posix() for p in ROOT.glob("tests/fixtures/**/*")
    } | {"lambda_src/notification_handlers/service/verification.py"}
    # Every detector stays on; the only allowlisted value is moto's fake credential.
    plugins = {plugin["name"] for plugin in baseline["plugins_used"]}
    assert {"AWSKeyDetector", "KeywordDetector", "PrivateKeyDetector", "Base64HighEntropyString"} <= plugins
    excluded = [f for f in baseline["filters_used"] if f["path"].endswith("should_exclude_secret")]
    assert [f["pattern"] for f in excluded] == [["^testing$"]]
    assert not [f for f in baseline["filters_used"] if f["path"].endswith("should_exclude_file")]


def realistic_aws_credentials(rng: random.Random) -> tuple[str, str]:
    """An access key ID and secret access key shaped like real ones, made at run time (never in this file)."""
    key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    secret = "".join(rng.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    return key_id, secret


def run_scanner(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ci" / "secret_scan.py"), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_secret_scan_rejects_a_realistic_aws_key_and_accepts_the_fake_credentials(tmp_path: Path) -> None:
    # A seeded generator: the same fake key on every run (it only has to look real to the scanner).
    key_id, secret = realistic_aws_credentials(random.Random(20261124))  # noqa: S311
    example_key_id = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # accepted in its CloudTrail fixture only
    leaked_id = tmp_path / "settings.py"
    leaked_id.write_text(f'ACCESS_KEY_ID = "{key_id}"\n')
    leaked_secret = tmp_path / "credentials.ini"
    leaked_secret.write_text(f"[default]\naws_secret_access_key = {secret}\n")
    copied_example = tmp_path / "notes.md"
    copied_example.write_text(f"use `{example_key_id}`\n")
    fake = tmp_path / "conftest.py"
    fake.write_text('FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}\n')

    result = run_scanner(leaked_id, leaked_secret, copied_example, fake)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{leaked_id}:1: AWS Access Key" in result.stdout
    assert f"{leaked_secret}:2: AWS Access Key" in result.stdout
    assert f"{copied_example}:1: AWS Access Key" in result.stdout
    assert str(fake) not in result.stdout
    assert key_id not in result.stdout and secret not in result.stdout, "the report must not echo secrets"

    clean = run_scanner(fake)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 files scanned, 0 finding(s)" in clean.stdout


def test_secret_scan_covers_tracked_and_new_files_but_not_its_baseline() -> None:
    files = secret_scan.repository_files()
    assert {"Makefile", "tests/fixtures/events/root_api_call.json", "tools/ci/secret_scan.py"} <= set(files)
    assert ".secrets.baseline" not in files
    assert not [f for f in files if f.startswith((".venv", ".git/"))]


@pytest.mark.parametrize("accepted", ["tests/fixtures/events/root_api_call.json"])
def test_secret_scan_accepts_the_audited_fixture_findings(accepted: str) -> None:
    result = run_scanner(ROOT / accepted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 finding(s), 2 accepted by the baseline, 0 new" in result.stdout
