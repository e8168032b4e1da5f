#!/usr/bin/env python3
"""Check that a version tag may be released, and print its release notes.

A tag ``vX.Y.Z`` (Semantic Versioning 2.0, optionally ``-prerelease``/``+build``) is releasable when:

* ``CHANGELOG.md`` has a section ``## [X.Y.Z] - YYYY-MM-DD`` (a real date) with at least one entry;
* ``pyproject.toml``'s ``[project] version`` is ``X.Y.Z``;
* the committed ``dist/lambda.zip`` is byte for byte what the sources build (``package_lambda.py --check``,
  with CPython 3.12 present so that the shipped bytecode is compared too).

Usage::

    python tools/ci/release_check.py check v0.1.0   # all of the above; exit 1 with every reason otherwise
    python tools/ci/release_check.py notes v0.1.0   # print the CHANGELOG section's body (the release notes)

``notes`` needs nothing but the standard library (the release job runs it without the virtualenv).
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
PYPROJECT = REPO_ROOT / "pyproject.toml"

# semver.org's own pattern for X.Y.Z[-prerelease][+build], behind a leading "v".
_NUMBER = r"0|[1-9]\d*"
_PRERELEASE_ID = r"0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*"
SEMVER_TAG = re.compile(
    rf"v(?P<version>(?:{_NUMBER})\.(?:{_NUMBER})\.(?:{_NUMBER})"
    rf"(?:-(?:{_PRERELEASE_ID})(?:\.(?:{_PRERELEASE_ID}))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?)"
)
# A second-level heading that names a release or [Unreleased]: "## [0.1.0] - 2026-12-04", "## [Unreleased]".
SECTION_HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?P<rest>.*)$")
DATED = re.compile(r"^ - (?P<date>\d{4}-\d{2}-\d{2})\s*$")
UNRELEASED = "Unreleased"


class ReleaseError(Exception):
    """Why a tag cannot be released."""


@dataclass(frozen=True)
class Section:
    name: str  # "0.1.0" or "Unreleased"
    heading: str
    body: str  # everything up to the next "## " heading, stripped


def version_of_tag(tag: str) -> str:
    """``v1.2.3`` -> ``1.2.3``; anything that is not ``v`` + a semantic version is refused."""
    match = SEMVER_TAG.fullmatch(tag)
    if match is None:
        raise ReleaseError(
            f"tag {tag!r} is not a semantic version tag: expected vMAJOR.MINOR.PATCH (e.g. v0.1.0), "
            "numbers without leading zeros"
        )
    return match.group("version")


def changelog_sections(text: str) -> list[Section]:
    """Every ``## [name]`` section of a Keep a Changelog file, in file order (link definitions excluded)."""
    sections: list[Section] = []
    current: tuple[str, str] | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            body = "\n".join(line for line in lines if not _is_link_definition(line)).strip()
            sections.append(Section(name=current[0], heading=current[1], body=body))

    for line in text.splitlines():
        heading = SECTION_HEADING.match(line)
        if heading is not None or line.startswith("## "):
            close()
            current = (heading.group("name"), line) if heading is not None else None
            lines = []
        elif current is not None:
            lines.append(line)
    close()
    return sections


def _is_link_definition(line: str) -> bool:
    # "[0.1.0]: https://..." compare links at the bottom belong to no section's notes.
    return re.match(r"^\[[^\]]+\]:\s", line) is not None


def release_section(text: str, version: str) -> Section:
    """The dated, non-empty ``## [version] - YYYY-MM-DD`` section, or why there is none."""
    sections = changelog_sections(text)
    found = [section for section in sections if section.name == version]
    if not found:
        unreleased = next((s for s in sections if s.name == UNRELEASED), None)
        hint = (
            f": its entries are still under [{UNRELEASED}]; cut the release (move them under "
            f"'## [{version}] - YYYY-MM-DD' and leave an empty [{UNRELEASED}] on top)"
            if unreleased is not None and unreleased.body
            else ""
        )
        raise ReleaseError(f"CHANGELOG.md has no '## [{version}]' section{hint}")
    if len(found) > 1:
        raise ReleaseError(f"CHANGELOG.md has {len(found)} '## [{version}]' sections")
    section = found[0]
    dated = DATED.match(section.heading[len(f"## [{version}]") :])
    if dated is None:
        raise ReleaseError(
            f"CHANGELOG.md's '{section.heading}' has no release date: expected '## [{version}] - YYYY-MM-DD'"
        )
    try:
        datetime.date.fromisoformat(dated.group("date"))
    except ValueError as error:
        raise ReleaseError(f"CHANGELOG.md's '{section.heading}': {error}") from None
    if not section.body:
        raise ReleaseError(f"CHANGELOG.md's '{section.heading}' lists no change")
    return section


def project_version(pyproject_text: str) -> str | None:
    project = tomllib.loads(pyproject_text).get("project", {})
    version = project.get("version")
    return version if isinstance(version, str) else None


def _zip_is_fresh() -> list[str]:
    """``package_lambda.py --check``, insisting on CPython 3.12 so that the bytecode is compared too."""
    from tools.ci import package_lambda  # noqa: PLC0415 (imports the build only where it is used)

    try:
        bytecode_python = package_lambda.find_bytecode_python()
    except package_lambda.BuildError as error:
        return [str(error)]
    if bytecode_python is None:
        return [
            f"no CPython {package_lambda.BYTECODE_VERSION_TEXT} here: a release compares dist/lambda.zip "
            f"byte for byte, bytecode included (set {package_lambda.BYTECODE_PYTHON_ENV})"
        ]
    if package_lambda.main(["--check"]) != 0:
        return ["dist/lambda.zip is not what the sources build (see above)"]
    return []


def check(
    tag: str,
    changelog_text: str,
    pyproject_text: str,
    zip_is_fresh: Callable[[], list[str]] = _zip_is_fresh,
) -> list[str]:
    """Every reason ``tag`` cannot be released; empty when it can."""
    try:
        version = version_of_tag(tag)
    except ReleaseError as error:
        return [str(error)]
    problems: list[str] = []
    try:
        release_section(changelog_text, version)
    except ReleaseError as error:
        problems.append(str(error))
    declared = project_version(pyproject_text)
    if declared != version:
        problems.append(f"pyproject.toml's [project] version is {declared!r}, the tag says {version!r}")
    problems.extend(zip_is_fresh())
    return problems


def release_notes(tag: str, changelog_text: str) -> str:
    return release_section(changelog_text, version_of_tag(tag)).body + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("command", choices=["check", "notes"])
    parser.add_argument("tag", help="the version tag, e.g. v0.1.0")
    args = parser.parse_args(argv)
    changelog_text = CHANGELOG.read_text(encoding="utf-8")
    if args.command == "notes":
        try:
            sys.stdout.write(release_notes(args.tag, changelog_text))
        except ReleaseError as error:
            print(f"FAIL: {error}", file=sys.stderr)
            return 1
        return 0
    problems = check(args.tag, changelog_text, PYPROJECT.read_text(encoding="utf-8"))
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"OK: {args.tag} is releasable (CHANGELOG section, pyproject version, dist/lambda.zip)")
    return 0


if __name__ == "__main__":
    # Run as a script from the repository root: make `tools.ci` importable.
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
