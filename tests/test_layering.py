"""The import rules docs/architecture.md states, read from the source so they stay true:
only ``store/`` touches the schema (the segment compiler excepted), ``store/`` imports nothing
from the domain, the domain never imports the API, no module imports itself in a circle, and
no module grows past 800 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "clarion"
SCHEMA_EXCEPTIONS = {"clarion.segments.dimensions"}
"""The segment compiler turns dimensions into one SQL condition over the schema, by design."""
STORE_MAY_IMPORT = {"clarion.store", "clarion.errors", "clarion.clock", "clarion.numbers"}
MAX_LINES = 800


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if "migrations" not in path.parts
}


def imports(name: str) -> Iterator[str]:
    """The clarion modules ``name`` imports, wherever in the module (a deferred import inside
    a function still ties the two together), except for type checking only."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level and node.module, f"{name}: write imports absolute"
            found = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (target for target in found if target in MODULES)


GRAPH = {name: sorted(set(imports(name))) for name in MODULES}


def test_only_the_store_and_the_segment_compiler_use_the_schema() -> None:
    users = {
        name
        for name, targets in GRAPH.items()
        if "clarion.store.schema" in targets and not name.startswith("clarion.store")
    }
    assert users <= SCHEMA_EXCEPTIONS, sorted(users - SCHEMA_EXCEPTIONS)


def test_the_store_imports_nothing_from_the_domain() -> None:
    wrong = {
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _within(name, ["clarion.store"])
        for target in targets
        if not any(
            target == allowed or target.startswith(f"{allowed}.") for allowed in STORE_MAY_IMPORT
        )
    }
    assert not wrong, sorted(wrong)


def test_the_domain_never_imports_the_api() -> None:
    api = ("clarion.api", "clarion.app", "clarion.cli")
    wrong = {
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if not _within(name, (*api, "clarion.__main__"))
        for target in targets
        if _within(target, api)
    }
    assert not wrong, sorted(wrong)


def test_no_import_circles() -> None:
    """Tarjan's strongly connected components: any with two or more modules is a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in GRAPH[name]:
            if target == name or _is_parent(target, name):
                continue
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == name:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in GRAPH:
        if name not in index:
            visit(name)
    assert not circles, circles


def _within(name: str, packages: Iterable[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def _is_parent(target: str, name: str) -> bool:
    """A package's ``__init__`` runs before its modules, so importing it is no circle."""
    return name.startswith(f"{target}.")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_oversized(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"
