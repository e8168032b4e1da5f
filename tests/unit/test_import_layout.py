"""The import direction of the repository's Python: tests use tools, tools never use tests, and no module
imports a module that imports it back.

Read from the source with ``ast`` (nothing is imported): every ``import`` counts, at module level or inside
a function or an ``if TYPE_CHECKING:`` block, because a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where each first-party tree's modules are importable from (pyproject's pythonpath: lambda_src and ".").
SOURCE_TREES = {
    REPO_ROOT / "lambda_src" / "notification_handlers": REPO_ROOT / "lambda_src",
    REPO_ROOT / "tools": REPO_ROOT,
    REPO_ROOT / "tests": REPO_ROOT,
}


def _module_name(path: Path, import_root: Path) -> str:
    parts = path.relative_to(import_root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_modules() -> dict[str, Path]:
    return {
        _module_name(path, import_root): path
        for tree, import_root in SOURCE_TREES.items()
        for path in sorted(tree.rglob("*.py"))
        if ".terraform" not in path.parts
    }


def imported_names(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything ``path`` imports; ``from a import b`` yields ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The first-party module ``name`` loads (``a.b.Class`` -> ``a.b``), or None for a third-party one."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = first_party_modules()
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for _, name in imported_names(path, module):
            target = _resolve(name, modules)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_file_under_tools_imports_from_tests() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}: imports {name}"
        for path in sorted((REPO_ROOT / "tools").rglob("*.py"))
        for line, name in imported_names(path, _module_name(path, REPO_ROOT))
        if name == "tests" or name.startswith("tests.")
    ]
    assert not offenders, "tools/ must not depend on tests/ (move what both need into tools/):\n" + "\n".join(
        offenders
    )


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tests.support import policies\n"
        "def later():\n    import tests.unit.conftest\n"
        "from .sibling import name\n",
        encoding="utf-8",
    )
    assert sorted(imported_names(source, "tools.demo.module")) == [
        (1, "typing.TYPE_CHECKING"),
        (3, "tests.support.policies"),
        (5, "tests.unit.conftest"),
        (6, "tools.demo.sibling.name"),
    ]
