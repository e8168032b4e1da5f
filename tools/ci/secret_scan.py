"""Secret scan of the repository with detect-secrets, against the audited baseline `.secrets.baseline`.

    python tools/ci/secret_scan.py                    # every tracked (and untracked, not ignored) file
    python tools/ci/secret_scan.py FILE...            # only these files
    python tools/ci/secret_scan.py --update-baseline  # rescan, rewrite the baseline, keep audit decisions

The scan fails (exit 1) when it finds a potential secret that is not in the baseline, or when the baseline
holds an entry nobody audited as a false positive (`"is_secret": false`, set with
`detect-secrets audit .secrets.baseline`). Entries match by file, secret hash and type, not by line, so
moving a line does not need a baseline update. Unlike `detect-secrets-hook`, the scan never rewrites the
baseline. The detectors, filters and the one allowlisted value (moto's fake credential "testing") are the
ones recorded in the baseline; SECURITY.md says why each accepted entry is not a secret.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / ".secrets.baseline"


def repository_files() -> list[str]:
    """Tracked files plus untracked ones that are not ignored (new files are scanned before commit)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    names = {name for name in out.split("\0") if name and (ROOT / name).is_file()}
    # The baseline holds hashes of the accepted findings, which look like secrets themselves.
    names.discard(BASELINE.name)
    return sorted(names)


def load_baseline(path: Path) -> SecretsCollection:
    """Load the baseline and apply its plugin and filter settings to this process."""
    return baseline.load(baseline.load_from_file(str(path)), str(path))


def scan(files: Sequence[str]) -> SecretsCollection:
    """Scan files named relative to the repository root (the working directory) or absolutely."""
    secrets = SecretsCollection()
    for name in files:
        secrets.scan_file(name)
    return secrets


def unaudited(accepted: SecretsCollection) -> list[str]:
    return [
        f"{filename}:{secret.line_number}: {secret.type}"
        for filename, secret in accepted
        if secret.is_secret is not False
    ]


def report(title: str, secrets: SecretsCollection) -> None:
    print(title)
    for filename, secret in secrets:
        print(f"  {filename}:{secret.line_number}: {secret.type}")


def update_baseline(path: Path, files: Sequence[str]) -> int:
    previous = load_baseline(path)
    secrets = scan(files)
    # Keeps is_secret (the audit decision) of entries that are still found; new entries are unaudited.
    secrets.merge(previous)
    baseline.save_to_file(secrets, str(path))
    pending = unaudited(secrets)
    print(f"{path.name}: {sum(1 for _ in secrets)} entries, {len(pending)} to audit")
    for line in pending:
        print(f"  {line}  -> detect-secrets audit {path.name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", help="files to scan (default: every file of the repository)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args(argv)

    # Findings are keyed by path relative to the root, as in the baseline.
    resolved = [Path(name).resolve() for name in args.files]
    files = [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in resolved]
    os.chdir(ROOT)
    files = files or repository_files()
    if args.update_baseline:
        return update_baseline(args.baseline, files)

    accepted = load_baseline(args.baseline)
    found = scan(files)
    new = found - accepted
    pending = unaudited(accepted)

    failed = False
    if new:
        failed = True
        report(f"secret scan: {sum(1 for _ in new)} potential secret(s) not in {args.baseline.name}:", new)
        print(
            "Remove the secret (and rotate it if it was ever real). A false positive is marked with an\n"
            "inline `pragma: allowlist secret` comment, or added with --update-baseline +\n"
            "`detect-secrets audit`, and explained in SECURITY.md."
        )
    if pending:
        failed = True
        print(f"secret scan: {len(pending)} baseline entr(ies) not audited as false positives:")
        for line in pending:
            print(f"  {line}")
    print(
        f"secret scan: {len(files)} files scanned, {sum(1 for _ in found)} finding(s), "
        f"{sum(1 for _ in found) - sum(1 for _ in new)} accepted by the baseline, {sum(1 for _ in new)} new"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
