"""Run `terraform init` with no network by finding a local mirror of the AWS provider.

Where the provider comes from, first match wins:

1. ``TF_PROVIDER_MIRROR``: a directory in the provider-mirror layout
   (``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws*``);
2. Terraform's implied local mirror directories (``~/.terraform.d/plugins``, the XDG data dirs, ...);
3. the result of an earlier filesystem search, cached in ``.cache/terraform-provider-mirror``;
4. a search of the filesystem for ``terraform-provider-aws*`` (once; the result is cached).

With a mirror, init runs with ``-plugin-dir``: Terraform then symlinks the ~700 MB binary instead of
copying it and never asks the registry. With none, plain ``terraform init`` runs, as it would online.

Usage::

    python tools/ci/terraform_offline.py plugin-dir           # print the mirror found (or nothing)
    python tools/ci/terraform_offline.py init DIR [ARGS...]   # terraform init, offline when possible
    python tools/ci/terraform_offline.py validate DIR...      # init + validate each dir, in parallel
    python tools/ci/terraform_offline.py test DIR...          # init each dir, then `terraform test` each test
                                                              # file, in parallel
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_FILE = REPO_ROOT / ".cache" / "terraform-provider-mirror"
PROVIDER_PATH = Path("registry.terraform.io", "hashicorp", "aws")
SEARCH_TIMEOUT_SECONDS = 120


def _holds_aws_provider(mirror: Path) -> bool:
    return any((mirror / PROVIDER_PATH).glob("*/*/terraform-provider-aws*"))


def _implied_mirror_dirs() -> list[Path]:
    """Terraform's implied local mirror directories on Unix, in its own order of precedence."""
    home = Path.home()
    data_dirs = [os.environ.get("XDG_DATA_HOME", str(home / ".local" / "share"))]
    data_dirs += os.environ.get("XDG_DATA_DIRS", "/usr/local/share:/usr/share").split(":")
    return [home / ".terraform.d" / "plugins"] + [Path(d) / "terraform" / "plugins" for d in data_dirs if d]


def _mirror_of(binary: Path) -> Path | None:
    """``<mirror>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/<binary>`` -> ``<mirror>``."""
    parts = binary.parent.parts
    if len(parts) >= 5 and Path(*parts[-5:-2]) == PROVIDER_PATH:
        return Path(*parts[:-5])
    return None


def _search_filesystem() -> Path | None:
    try:
        found = subprocess.run(
            ["find", "/", "-xdev", "-name", "terraform-provider-aws*", "-type", "f"],
            capture_output=True,
            text=True,
            timeout=SEARCH_TIMEOUT_SECONDS,
            check=False,
        ).stdout.split()
    except subprocess.TimeoutExpired:
        return None
    # Skip copies inside working directories (.terraform/providers) and our own temp workspaces.
    for binary in sorted(found):
        mirror = _mirror_of(Path(binary))
        if mirror is not None and ".terraform" not in mirror.parts and _holds_aws_provider(mirror):
            return mirror
    return None


def find_provider_mirror() -> Path | None:
    explicit = os.environ.get("TF_PROVIDER_MIRROR")
    if explicit:
        if not _holds_aws_provider(Path(explicit)):
            raise SystemExit(
                f"TF_PROVIDER_MIRROR={explicit} holds no {PROVIDER_PATH}/<version>/<os_arch>/"
                "terraform-provider-aws* binary"
            )
        return Path(explicit)
    for implied in _implied_mirror_dirs():
        if _holds_aws_provider(implied):
            return implied
    if CACHE_FILE.is_file():
        cached = Path(CACHE_FILE.read_text().strip())
        if _holds_aws_provider(cached):
            return cached
    mirror = _search_filesystem()
    if mirror is not None:
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        CACHE_FILE.write_text(f"{mirror}\n")
    return mirror


def terraform_env() -> dict[str, str]:
    """The environment for terraform: a CLI config path that does not exist only produces a warning."""
    env = dict(os.environ)
    config = env.get("TF_CLI_CONFIG_FILE")
    if config and not Path(config).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("CHECKPOINT_DISABLE", "1")
    return env


def init_command(extra_args: list[str] | None = None) -> list[str]:
    command = ["terraform", "init", "-input=false", "-no-color"]
    mirror = find_provider_mirror()
    if mirror is not None:
        command.append(f"-plugin-dir={mirror}")
    return command + list(extra_args or [])


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run terraform in ``cwd``; ``env`` adds to (or overrides) terraform_env(), e.g. TF_DATA_DIR."""
    environment = terraform_env() | (env or {})
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=False)


def init(
    directory: Path, extra_args: list[str] | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(init_command(extra_args), directory, env)


def _init_then(directory: Path, command: list[str]) -> tuple[Path, bool, str]:
    """Init (no backend), then run ``command`` in ``directory``; returns (dir, ok, output)."""
    initialised = init(directory, ["-backend=false"])
    if initialised.returncode != 0:
        return directory, False, initialised.stdout + initialised.stderr
    result = run(command, directory)
    return directory, result.returncode == 0, result.stdout + result.stderr


def validate(directory: Path) -> tuple[Path, bool, str]:
    """Validate one root or child module."""
    return _init_then(directory, ["terraform", "validate", "-no-color"])


def _run_blocks(test_file: Path) -> int:
    return sum(1 for line in test_file.read_text(encoding="utf-8").splitlines() if line.startswith("run "))


def native_test_jobs(directories: list[Path]) -> list[tuple[Path, str | None]]:
    """One job per test file (``tests/<file>.tftest.hcl`` of each directory), most run blocks first.

    A directory's files run in one process one after another; as separate jobs the root module's 100-odd runs
    no longer hold one core while the other finishes the small modules. Longest first: the last job to end
    is a short one. A directory without tests/*.tftest.hcl is one job (``None``: plain ``terraform test``).
    """
    jobs: list[tuple[int, Path, str | None]] = []
    for directory in directories:
        files = sorted((directory / "tests").glob("*.tftest.hcl"))
        jobs += [(_run_blocks(f), directory, f.relative_to(directory).as_posix()) for f in files]
        if not files:
            jobs.append((0, directory, None))
    return [(directory, name) for _, directory, name in sorted(jobs, key=lambda job: -job[0])]


def native_test_file(job: tuple[Path, str | None]) -> tuple[Path, bool, str]:
    """``terraform test`` (mock providers: offline) of one file of an initialised directory, or of the whole
    directory for ``None``."""
    directory, test_file = job
    result = run(
        ["terraform", "test", "-no-color", *([f"-filter={test_file}"] if test_file else [])], directory
    )
    return directory / (test_file or ""), result.returncode == 0, result.stdout + result.stderr


def _init_only(directory: Path) -> tuple[Path, bool, str]:
    initialised = init(directory, ["-backend=false"])
    return directory, initialised.returncode == 0, initialised.stdout + initialised.stderr


def _main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"plugin-dir", "init", "validate", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 2
    if argv[0] == "plugin-dir":
        mirror = find_provider_mirror()
        print(mirror or "")
        return 0
    if argv[0] == "init":
        result = init(Path(argv[1]), argv[2:])
        print(result.stdout + result.stderr)
        return result.returncode
    directories = [Path(d) for d in argv[1:]]
    failed = 0
    # Each command spends most of its time loading the provider: two at a time keeps both cores busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        if argv[0] == "validate":
            results = list(pool.map(validate, directories))
        else:
            results = [result for result in pool.map(_init_only, directories) if not result[1]]
            if not results:
                results = list(pool.map(native_test_file, native_test_jobs(directories)))
        for directory, ok, output in results:
            summary = [line for line in output.splitlines() if line.startswith(("Success!", "Failure!"))]
            print(f"{'ok  ' if ok else 'FAIL'} terraform {argv[0]} {directory} {' '.join(summary)}")
            if not ok:
                failed += 1
                print(output)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
