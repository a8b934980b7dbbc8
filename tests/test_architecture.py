"""The package's shape: rooms small, imports pointing down the pipeline, no import cycle.

Read statically from the source (every import, also those inside functions), so that a lazy import
cannot hide an upward edge. The limits hold for the product package and for the developer tools beside
it (benchmarks/, reliability/), with no exception list: a module that outgrows them is split.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jk500_rules"
MODULE_LINES = 600
CLASS_LINES = 300

# Rooms of the package, bottom first: a module may import its own room and the rooms below it.
# The root's `errors`, `dates` and `_version` are what every stage uses; the API's own entry points
# (`api`), the CLI and the package's `__init__` (the public names) sit on top of everything.
LAYERS = ("_version", "errors", "dates", "language", "compiler", "explain", "inputs", "engine", "reports", "live",
          "api", "cli", "__main__", "__init__")


def _sources(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """The jk500_rules modules a source file imports, anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "jk500_rules"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "jk500_rules":
                continue
            for alias in node.names:  # `from . import nodes` imports a module; `from .x import y` a name
                child = f"{target}.{alias.name}"
                found.add(child if _exists(child) else target)
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in _sources(PACKAGE)}


@pytest.mark.parametrize("path", _sources(PACKAGE, ROOT / "benchmarks", ROOT / "reliability"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_classes_stay_small(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    assert lines <= MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MODULE_LINES}): split it"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= CLASS_LINES, f"class {node.name} in {path.relative_to(ROOT)} has {length} lines " \
                                          f"(at most {CLASS_LINES}): split it"


def test_every_room_of_the_package_has_a_place_in_the_layers() -> None:
    rooms = {_room(module) for module in _graph()}
    assert rooms <= set(LAYERS), f"rooms without a layer: {sorted(rooms - set(LAYERS))}"


def test_imports_point_down_the_pipeline() -> None:
    upward = sorted(f"{source} imports {target} ({_room(target)} is above {_room(source)})"
                    for source, targets in _graph().items() for target in targets
                    if LAYERS.index(_room(target)) > LAYERS.index(_room(source)))
    assert not upward, "\n".join(upward)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_subpackages() -> None:
    rooms: dict[str, set[str]] = {}
    for source, targets in _graph().items():
        rooms.setdefault(_room(source), set()).update(_room(t) for t in targets if _room(t) != _room(source))
    cycle = _cycle(rooms)
    assert cycle is None, "import cycle between rooms: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_modules() -> None:
    graph = {source: targets - {source} for source, targets in _graph().items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert LAYERS.index(_room("jk500_rules.reports.writers")) > LAYERS.index(_room("jk500_rules.compiler.check"))


def test_only_the_engine_door_imports_durable_rules() -> None:
    importers = sorted(_module_name(p) for p in _sources(PACKAGE)
                       for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                       if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                           (alias.name if isinstance(node, ast.Import) else node.module or "").startswith("durable")
                           for alias in node.names) and getattr(node, "level", 0) == 0)
    assert importers == ["jk500_rules.engine.durable"]
