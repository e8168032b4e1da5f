"""Provider-mirror discovery for offline `terraform init` (tools/ci/terraform_offline.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.ci import terraform_offline


def _fake_mirror(root: Path, version: str = "5.100.0") -> Path:
    platform = root / "registry.terraform.io" / "hashicorp" / "aws" / version / "linux_amd64"
    platform.mkdir(parents=True)
    (platform / f"terraform-provider-aws_v{version}_x5").write_bytes(b"")
    return root


@pytest.fixture
def no_mirrors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing anywhere: no env var, empty implied dirs, no cache, a filesystem search that finds nothing."""
    monkeypatch.delenv("TF_PROVIDER_MIRROR", raising=False)
    monkeypatch.setattr(terraform_offline, "_implied_mirror_dirs", lambda: [tmp_path / "implied"])
    monkeypatch.setattr(terraform_offline, "CACHE_FILE", tmp_path / "cache" / "mirror")
    monkeypatch.setattr(terraform_offline, "_search_filesystem", lambda: None)
    return tmp_path


def test_environment_variable_wins(no_mirrors: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = _fake_mirror(no_mirrors / "explicit")
    _fake_mirror(no_mirrors / "implied")
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(mirror))

    assert terraform_offline.find_provider_mirror() == mirror
    assert f"-plugin-dir={mirror}" in terraform_offline.init_command()


def test_environment_variable_without_provider_is_a_clear_error(
    no_mirrors: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(no_mirrors))

    with pytest.raises(SystemExit, match=r"holds no registry\.terraform\.io/hashicorp/aws"):
        terraform_offline.find_provider_mirror()


def test_implied_local_mirror_is_used(no_mirrors: Path) -> None:
    assert terraform_offline.find_provider_mirror() is None
    _fake_mirror(no_mirrors / "implied")

    assert terraform_offline.find_provider_mirror() == no_mirrors / "implied"


def test_filesystem_search_result_is_cached(no_mirrors: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _fake_mirror(no_mirrors / "somewhere")
    calls: list[int] = []
    monkeypatch.setattr(terraform_offline, "_search_filesystem", lambda: calls.append(1) or found)

    assert terraform_offline.find_provider_mirror() == found
    assert terraform_offline.find_provider_mirror() == found
    assert calls == [1], "the second lookup must come from the cache, not a new search"
    assert terraform_offline.CACHE_FILE.read_text().strip() == str(found)


def test_no_mirror_means_plain_online_init(no_mirrors: Path) -> None:
    command = terraform_offline.init_command(["-backend=false"])

    assert command == ["terraform", "init", "-input=false", "-no-color", "-backend=false"]


def test_mirror_root_is_derived_from_the_binary_path(tmp_path: Path) -> None:
    mirror = _fake_mirror(tmp_path / "mirror")
    binary = next(mirror.rglob("terraform-provider-aws*"))

    assert terraform_offline._mirror_of(binary) == mirror
    assert terraform_offline._mirror_of(tmp_path / "bin" / "terraform-provider-aws") is None


def test_missing_cli_config_file_is_dropped_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/nonexistent/terraformrc")

    assert "TF_CLI_CONFIG_FILE" not in terraform_offline.terraform_env()
