"""The deployment zip: reproducible, complete, clean, and importable on its own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.bench.cold_start import RUNTIME_PROVIDED, cumulative_ms, handler_modules, runtime_dir
from tools.ci import package_lambda

BYTECODE_PYTHON = package_lambda.find_bytecode_python()
needs_bytecode_python = pytest.mark.skipif(
    BYTECODE_PYTHON is None, reason=f"no CPython {package_lambda.BYTECODE_VERSION_TEXT} on this machine"
)

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_ZIP = REPO_ROOT / "dist" / "lambda.zip"
EVENTS_DIR = REPO_ROOT / "tests" / "fixtures" / "events"


@pytest.fixture(scope="module")
def fresh_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("build") / "lambda.zip"
    package_lambda.build(destination)
    return destination


def test_fresh_build_equals_committed_zip(fresh_zip: Path) -> None:
    assert COMMITTED_ZIP.is_file(), "dist/lambda.zip is missing: run python tools/ci/package_lambda.py"
    assert fresh_zip.read_bytes() == COMMITTED_ZIP.read_bytes(), (
        "dist/lambda.zip is stale: run python tools/ci/package_lambda.py and commit the result"
    )


def test_build_is_deterministic(fresh_zip: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    package_lambda.build(again)

    assert again.read_bytes() == fresh_zip.read_bytes()


def test_zip_holds_the_handlers_and_the_pinned_libraries(fresh_zip: Path) -> None:
    names = zipfile.ZipFile(fresh_zip).namelist()

    assert "notification_handlers/__init__.py" in names
    assert "notification_handlers/aws_clients.py" in names
    assert "notification_handlers/root_activity.py" in names
    assert "notification_handlers/service/schemas/notification-event.schema.json" in names
    assert "rsa/pkcs1.py" in names
    assert "rsa-4.7.2.dist-info/METADATA" in names
    assert "tzdata/zoneinfo/Europe/London" in names
    # Not vendored: Powertools' import was half the router's cold start (lambda_src/requirements.txt).
    assert not [
        n for n in names if n.split("/")[0].startswith(("aws_lambda_powertools", "typing_extensions"))
    ]
    # The runtime provides these; vendoring them would shadow the runtime's copies.
    assert not [n for n in names if n.split("/")[0] in {"boto3", "botocore", "jmespath"}]


def test_zip_entries_are_normalised(fresh_zip: Path) -> None:
    infos = zipfile.ZipFile(fresh_zip).infolist()
    names = [info.filename for info in infos]

    assert names == sorted(names)
    assert len(names) == len(set(names))
    sources = {n for n in names if n.endswith(".py")}
    bytecode = {n for n in names if package_lambda.is_bytecode(n)}
    # Exactly one cpython-312 pyc per source, in the __pycache__ beside it; nothing else compiled.
    assert bytecode == {
        re.sub(r"([^/]+)\.py$", r"__pycache__/\1.cpython-312.pyc", source) for source in sources
    }
    assert not [n for n in names if n.endswith("/")], "no directory entries"
    assert not [n for n in names if n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json"))]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.create_system == 3, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename


def test_zip_imports_and_runs_with_only_the_lambda_runtime_libraries(fresh_zip: Path, tmp_path: Path) -> None:
    task_dir = tmp_path / "task"
    zipfile.ZipFile(fresh_zip).extractall(task_dir)
    runtime = runtime_dir(tmp_path)
    # -I -S: no site-packages, no PYTHON* variables; only the zip, then the runtime's libraries.
    script = f"""
import json, sys
sys.path[:0] = [{str(task_dir)!r}, {str(runtime)!r}]
import boto3, rsa
from notification_handlers import root_activity

class Context:
    function_name = "root-activity-notifier"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:root-activity-notifier"
    aws_request_id = "req-1"

with open({str(EVENTS_DIR / "iam_user_console_sign_in.json")!r}, encoding="utf-8") as f:
    result = root_activity.handler(json.load(f), Context())
sys.stderr.write(json.dumps({{
    "result": result,
    "handler": root_activity.__file__,
    "rsa": rsa.__file__,
    "powertools_loaded": any(m.startswith("aws_lambda_powertools") for m in sys.modules),
    "boto3": boto3.__file__,
}}))
"""
    env = {"PATH": os.environ.get("PATH", ""), "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t"}

    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stderr.splitlines()[-1])
    assert report["result"]["status"] == "ignored"
    assert report["powertools_loaded"] is False
    for module in ("handler", "rsa"):
        assert Path(report[module]).is_relative_to(task_dir), f"{module} did not come from the zip: {report}"
    assert Path(report["boto3"]).is_relative_to(runtime)
    assert json.loads(completed.stdout)["message"] == "Ignored event"
    shipped = {n for n in zipfile.ZipFile(fresh_zip).namelist() if package_lambda.is_bytecode(n)}
    on_disk = {p.relative_to(task_dir).as_posix() for p in task_dir.rglob("__pycache__/*")}
    assert on_disk == shipped, "-B: the read-only /var/task never gets more bytecode than the zip ships"


def test_shipped_bytecode_is_unchecked_hash_based(fresh_zip: Path) -> None:
    with zipfile.ZipFile(fresh_zip) as archive:
        headers = {
            name: archive.read(name)[:16] for name in archive.namelist() if package_lambda.is_bytecode(name)
        }

    assert headers
    assert len({header[:4] for header in headers.values()}) == 1, "one magic number: one CPython version"
    # PEP 552 flags: bit 0 hash-based, bit 1 check_source. 0b01: loaded without reading the source.
    assert {int.from_bytes(header[4:8], "little") for header in headers.values()} == {0b01}


@needs_bytecode_python
def test_the_runtime_cpython_loads_the_shipped_bytecode(fresh_zip: Path, tmp_path: Path) -> None:
    assert BYTECODE_PYTHON is not None
    task_dir = tmp_path / "task"
    zipfile.ZipFile(fresh_zip).extractall(task_dir)
    script = (
        f"import sys; sys.path[:0] = [{str(task_dir)!r}]; import notification_handlers.service.contract;"
        " import rsa"
    )

    completed = subprocess.run(
        [BYTECODE_PYTHON, "-I", "-S", "-B", "-v", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    cache = task_dir / "notification_handlers" / "service" / "__pycache__"
    # -v prints where each module's code object came from: the shipped pyc, not a compile of the source.
    assert f"code object from '{cache / 'contract.cpython-312.pyc'}'" in completed.stderr
    assert f"code object from '{cache / 'notification_event_validator.cpython-312.pyc'}'" in completed.stderr
    # A vendored library's too.
    assert (
        f"code object from '{task_dir / 'rsa' / '__pycache__' / '__init__.cpython-312.pyc'}'"
        in completed.stderr
    )


def test_every_function_defaults_to_the_runtime_the_bytecode_targets() -> None:
    defaults: dict[str, str] = {}
    for variables in [REPO_ROOT / "variables.tf", *sorted((REPO_ROOT / "modules").glob("*/variables.tf"))]:
        text = variables.read_text(encoding="utf-8")
        for match in re.finditer(r'variable "(lambda_runtime|runtime)" \{(.*?)\n\}', text, re.DOTALL):
            default = re.search(r'default\s*=\s*"([^"]+)"', match[2])
            assert default is not None, f"{variables}: {match[1]} has no default"
            defaults[f"{variables.relative_to(REPO_ROOT)}:{match[1]}"] = default[1]
        # A runtime field of an object input (queue-worker's function): its optional() default. A field
        # without one (the patterns' lambda object) passes null through, i.e. lambda-function's default.
        for match in re.finditer(r'^\s*runtime\s*=\s*optional\(string,\s*"([^"]+)"\)', text, re.MULTILINE):
            defaults[f"{variables.relative_to(REPO_ROOT)}:runtime field"] = match[1]

    # The root module, lambda-function and queue-worker.
    assert len(defaults) >= 3, defaults
    assert set(defaults.values()) == {package_lambda.BYTECODE_RUNTIME}, defaults


def test_check_mode_flags_a_stale_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "lambda.zip"
    shutil.copyfile(COMMITTED_ZIP, stale)
    with zipfile.ZipFile(stale, "a") as archive:
        archive.writestr("extra.txt", "not built from the sources")

    assert package_lambda.main(["--check", "--output", str(stale)]) == 1
    assert "is not what the sources and pins build" in capsys.readouterr().err


def test_check_mode_passes_on_a_fresh_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "lambda.zip"
    assert package_lambda.main(["--output", str(output)]) == 0
    assert package_lambda.main(["--check", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert f"sha256 (base64) {package_lambda.base64_sha256(output)}" in printed
    assert "OK:" in printed


def test_check_mode_without_the_runtime_cpython_verifies_everything_but_the_bytecode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package_lambda, "find_bytecode_python", lambda: None)
    stale = tmp_path / "lambda.zip"
    with zipfile.ZipFile(COMMITTED_ZIP) as source, zipfile.ZipFile(stale, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data + b"\n# edited" if info.filename.endswith("/router.py") else data)

    assert package_lambda.main(["--check", "--output", str(COMMITTED_ZIP)]) == 0
    assert "every entry but the shipped cpython-312 bytecode was verified" in capsys.readouterr().err
    assert package_lambda.main(["--check", "--output", str(stale)]) == 1
    with pytest.raises(package_lambda.BuildError, match=r"no CPython 3\.12 found"):
        package_lambda.build(tmp_path / "never.zip")


def test_a_pin_that_differs_from_the_installed_version_fails_clearly() -> None:
    with pytest.raises(package_lambda.BuildError, match=r"rsa is pinned to 1\.0\.0 but 4\.7\.2"):
        package_lambda.vendored_entries("rsa", "1.0.0")
    with pytest.raises(package_lambda.BuildError, match="not installed"):
        package_lambda.vendored_entries("surely-not-an-installed-distribution", "1.0")


def test_requirements_must_be_exact_pins(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nrsa==4.7.2\n\ntzdata>=2024\n", encoding="utf-8")

    with pytest.raises(
        package_lambda.BuildError, match=r"requirements.txt:4: 'tzdata>=2024' is not an exact"
    ):
        package_lambda.read_pins(requirements)


def test_committed_pins_match_the_dev_requirements() -> None:
    pins = package_lambda.read_pins(package_lambda.REQUIREMENTS_FILE)
    dev_lines = (REPO_ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()

    assert set(pins) == {"rsa", "tzdata"}
    for name, version in pins.items():
        assert f"{name}=={version}" in dev_lines, name


def test_cold_start_tool_finds_handlers_and_parses_importtime(fresh_zip: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(fresh_zip).extractall(tmp_path)
    sample = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       431 |     121177 | boto3\n"
        "import time:       312 |      40235 |   notification_handlers.structured_log\n"
        "import time:      5792 |      45724 | notification_handlers.root_activity\n"
    )

    modules = handler_modules(tmp_path)
    assert "notification_handlers.root_activity" in modules
    assert modules == sorted(modules) and "notification_handlers.aws_clients" not in modules
    assert cumulative_ms(sample, "notification_handlers.root_activity") == pytest.approx(45.724)
    assert cumulative_ms(sample, "boto3") == pytest.approx(121.177)
    assert "six.py" in RUNTIME_PROVIDED
