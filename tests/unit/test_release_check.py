"""tools/ci/release_check.py: a version tag is released only with its dated CHANGELOG section, the same
version in pyproject.toml and a fresh dist/lambda.zip; its CHANGELOG section is the release's notes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tools.ci import release_check
from tools.ci.release_check import REPO_ROOT, ReleaseError

PYPROJECT = '[project]\nname = "x"\nversion = "1.2.0"\n'
CHANGELOG = """# Changelog

Intro text.

## [Unreleased]

### Added

- Something not yet released.

## [1.2.0] - 2026-11-30

### Changed

- The thing that changed in 1.2.0.

## [1.1.0] - 2026-10-01

- Older.

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/compare/v1.1.0...v1.2.0
"""


def no_zip_problem() -> list[str]:
    return []


def test_a_dated_section_is_releasable_and_its_body_is_the_notes() -> None:
    assert release_check.check("v1.2.0", CHANGELOG, PYPROJECT, zip_is_fresh=no_zip_problem) == []

    notes = release_check.release_notes("v1.2.0", CHANGELOG)

    assert notes == "### Changed\n\n- The thing that changed in 1.2.0.\n"


def test_compare_links_are_not_part_of_the_last_sections_notes() -> None:
    assert release_check.release_notes("v1.1.0", CHANGELOG) == "- Older.\n"


def test_a_version_without_a_section_is_refused() -> None:
    problems = release_check.check("v1.3.0", CHANGELOG, PYPROJECT, zip_is_fresh=no_zip_problem)

    assert any("no '## [1.3.0]' section" in problem for problem in problems)


def test_a_section_without_a_date_is_refused() -> None:
    undated = CHANGELOG.replace("## [1.2.0] - 2026-11-30", "## [1.2.0]")

    with pytest.raises(ReleaseError, match=r"no release date: expected '## \[1.2.0\] - YYYY-MM-DD'"):
        release_check.release_section(undated, "1.2.0")


@pytest.mark.parametrize("date", ["2026-13-01", "2026-02-30"])
def test_a_date_that_does_not_exist_is_refused(date: str) -> None:
    with pytest.raises(ReleaseError, match=r"month|day"):
        release_check.release_section(CHANGELOG.replace("2026-11-30", date), "1.2.0")


def test_entries_still_under_unreleased_are_refused_with_how_to_cut_the_release() -> None:
    not_cut = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- A feature.\n"

    problems = release_check.check("v1.2.0", not_cut, PYPROJECT, zip_is_fresh=no_zip_problem)

    assert problems == [
        "CHANGELOG.md has no '## [1.2.0]' section: its entries are still under [Unreleased]; cut the release "
        "(move them under '## [1.2.0] - YYYY-MM-DD' and leave an empty [Unreleased] on top)"
    ]


def test_the_unreleased_section_is_not_a_version() -> None:
    with pytest.raises(ReleaseError, match="not a semantic version tag"):
        release_check.release_notes("vUnreleased", CHANGELOG)
    with pytest.raises(ReleaseError, match="no release date"):
        release_check.release_section(CHANGELOG, "Unreleased")


def test_an_empty_section_is_refused() -> None:
    empty = CHANGELOG.replace("### Changed\n\n- The thing that changed in 1.2.0.\n", "")

    with pytest.raises(ReleaseError, match="lists no change"):
        release_check.release_section(empty, "1.2.0")


def test_a_version_listed_twice_is_refused() -> None:
    twice = CHANGELOG + "\n## [1.2.0] - 2026-01-01\n\n- Again.\n"

    with pytest.raises(ReleaseError, match=r"has 2 '## \[1\.2\.0\]' sections"):
        release_check.release_section(twice, "1.2.0")


@pytest.mark.parametrize(
    "tag",
    ["1.2.0", "v1.2", "v1.2.0.1", "v01.2.0", "v1.02.0", "vX.Y.Z", "v1.2.0-", "v1.2.0-01", "release-1.2.0"],
)
def test_a_tag_that_is_not_semver_is_refused(tag: str) -> None:
    problems = release_check.check(tag, CHANGELOG, PYPROJECT, zip_is_fresh=no_zip_problem)

    assert len(problems) == 1
    assert "is not a semantic version tag" in problems[0]


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("v0.1.0", "0.1.0"),
        ("v10.20.30", "10.20.30"),
        ("v1.0.0-rc.1", "1.0.0-rc.1"),
        ("v1.0.0+build.5", "1.0.0+build.5"),
    ],
)
def test_semver_tags_name_their_version(tag: str, version: str) -> None:
    assert release_check.version_of_tag(tag) == version


def test_pyproject_must_carry_the_tagged_version() -> None:
    problems = release_check.check(
        "v1.2.0", CHANGELOG, PYPROJECT.replace("1.2.0", "1.1.0"), zip_is_fresh=no_zip_problem
    )

    assert problems == ["pyproject.toml's [project] version is '1.1.0', the tag says '1.2.0'"]


def test_a_stale_zip_is_refused() -> None:
    problems = release_check.check(
        "v1.2.0", CHANGELOG, PYPROJECT, zip_is_fresh=lambda: ["dist/lambda.zip is not what the sources build"]
    )

    assert problems == ["dist/lambda.zip is not what the sources build"]


def test_the_real_changelog_releases_v0_1_0() -> None:
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")

    assert release_check.check("v0.1.0", changelog, pyproject, zip_is_fresh=no_zip_problem) == []
    section = release_check.release_section(changelog, "0.1.0")
    assert section.heading == "## [0.1.0] - 2026-12-04"
    assert section.body.startswith("### Added")
    # Keep a Changelog: an [Unreleased] section stays on top, above the newest release.
    names = [s.name for s in release_check.changelog_sections(changelog)]
    assert names[:2] == ["Unreleased", "0.1.0"]


def test_the_notes_command_prints_the_section_without_the_virtualenv() -> None:
    # The release job runs it with the runner's python3 and no dependency installed: -S -I keep site-packages
    # and the repository's own paths off sys.path.
    printed = subprocess.run(
        [sys.executable, "-S", "-I", str(REPO_ROOT / "tools" / "ci" / "release_check.py"), "notes", "v0.1.0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert printed.startswith("### Added\n")
    assert "## [" not in printed
