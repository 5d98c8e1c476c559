"""The package's imports point down the stages and never round in a circle.

Every ``import`` in ``narratives/`` is read with :mod:`ast` (imports inside functions too: a lazy import
is still a dependency), and checked against the layers below. A package may import its own modules
and packages of lower layers only; two packages of one layer may not import each other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "narratives"

# Lowest first. The coders learn from reviews, so the review record and state sit below coding;
# nothing in review/ imports a coder or an embedder.
LAYERS: list[set[str]] = [
    {"kinds", "paths", "__init__"},
    {
        "schema",
        "errors",
        "hf_compat",
    },  # hf_compat: keeps `import transformers` working (imports nothing here)
    {"store"},
    {"ingest", "segment", "deidentify", "auth"},
    {"embed_static"},  # the static (model2vec) embedder, which embed's load_embedder finds by name
    {"embed"},
    {"models_local"},  # the models this machine has; distilling a static one
    {"review"},
    {"codebook"},
    {"coding"},
    {"discovery"},
    {"analysis"},
    {"interop"},
    {"engines"},
    {"pipeline_config"},
    {"pipeline"},
    {"ui"},
    {"bench"},
    {"cli"},
]
LAYER_OF = {package: index for index, packages in enumerate(LAYERS) for package in packages}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The ``narratives`` modules a file imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(path, known) - {name} for name, path in modules.items()}


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_package_has_a_layer() -> None:
    packages = {top_package(m) for m in all_modules()}
    assert packages - set(LAYER_OF) == set()


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, targets in graph().items():
        here = top_package(module)
        for target in targets:
            there = top_package(target)
            if there == here or target == "narratives":
                continue
            if LAYER_OF[there] >= LAYER_OF[here]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one module (each a circle of imports)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_itself_round_a_circle() -> None:
    edges = {m: {t for t in targets if t != "narratives"} for m, targets in graph().items()}
    # A package's __init__ re-exporting its modules is not a circle back into it.
    for module in list(edges):
        if (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists():
            edges[module] = set()
    assert strongly_connected(edges) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", ["cli", "ui"])
def test_the_edges_build_no_sql(package: str) -> None:
    """The command line and the explorer call the library; only the store touches tables and SQL."""
    offending = defaultdict(list)
    for module, path in all_modules().items():
        if top_package(module) != package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {alias.name for alias in node.names}
                if node.module == "narratives.store.tables" or (
                    node.module.startswith("sqlalchemy") and names - {"Connection"}
                ):
                    offending[module].append(f"from {node.module} import {', '.join(sorted(names))}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("sqlalchemy"):
                        offending[module].append(f"import {alias.name}")
    assert dict(offending) == {}


SQL_CALLS = {"execute", "exec_driver_sql", "scalar", "scalars"}  # methods that send SQL


def sql_outside_the_store(source: str) -> list[str]:
    """What in ``source`` reaches the tables or builds or sends SQL (for a module outside the store)."""
    builders = {"select", "insert", "update", "delete", "func", "text", "exists", "case", "and_", "or_"}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module == "narratives.store.tables" or (
                node.module.startswith("sqlalchemy") and names & builders
            ):
                found.append(f"from {node.module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("sqlalchemy")]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f".{node.func.attr}(...) at line {node.lineno}")
    return found


def test_sql_lives_in_the_store_only() -> None:
    """Outside ``narratives/store`` no module imports the tables, builds a query or sends SQL."""
    offending = []
    for module, path in all_modules().items():
        if top_package(module) != "store":
            offending += [
                f"{module}: {what}" for what in sql_outside_the_store(path.read_text(encoding="utf-8"))
            ]
    assert offending == []


@pytest.mark.parametrize(
    "source",
    [
        "from narratives.store.tables import reviews",
        "from sqlalchemy import select",
        "import sqlalchemy",
        "def f(connection):\n    connection.exec_driver_sql('ANALYZE')",
        "def f(connection, query):\n    return connection.execute(query)",
    ],
)
def test_the_sql_check_sees_each_way_in(source: str) -> None:
    assert sql_outside_the_store(source) != []
