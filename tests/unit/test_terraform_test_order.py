"""The end-to-end files' order: each destroy (test_zz_) runs after its own deployment's tests, and a
parametrized deployment keeps one group per parameter (a destroy moved past the next parameter's tests would
tear the module-scoped fixture down and deploy the same names a second time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.terraform.conftest import pytest_collection_modifyitems


@dataclass
class CallSpec:
    params: dict[str, Any]


@dataclass
class Item:
    path: Path
    name: str
    callspec: CallSpec | None = field(default=None)


def _ordered(items: list[Item]) -> list[str]:
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    return [item.name for item in items]


def test_a_destroy_written_before_other_tests_runs_after_them() -> None:
    path = Path("tests/terraform/test_example.py")
    items = [Item(path, "test_applies"), Item(path, "test_zz_destroy"), Item(path, "test_added_later")]
    assert _ordered(items) == ["test_applies", "test_added_later", "test_zz_destroy"]


def test_a_parametrized_destroy_stays_with_its_parameter() -> None:
    path = Path("tests/terraform/test_examples_apply_with_defaults.py")
    names = ["test_applies[a]", "test_zz_destroy[a]", "test_applies[b]", "test_zz_destroy[b]"]
    items = [Item(path, name, CallSpec({"deployed": name[-2]})) for name in names]
    items.insert(0, Item(path, "test_every_example_listed"))
    assert _ordered(items) == ["test_every_example_listed", *names]


def test_the_longest_files_come_first() -> None:
    short, long = Path("tests/terraform/test_s3.py"), Path("tests/terraform/test_notification_service.py")
    items = [Item(short, "test_zz_destroy"), Item(short, "test_applies"), Item(long, "test_applies")]
    assert [(item.path.name, name) for item, name in zip(items, _ordered(items), strict=True)] == [
        ("test_notification_service.py", "test_applies"),
        ("test_s3.py", "test_applies"),
        ("test_s3.py", "test_zz_destroy"),
    ]
