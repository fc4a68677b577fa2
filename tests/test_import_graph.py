"""The package's module-level import graph has no cycles (lazy imports inside functions aside)."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "workflow" / "darkscan"


def module_graph(package: pathlib.Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level."""
    modules = {}
    for path in package.rglob("*.py"):
        if "templates" in path.parts:  # string.Template files, not modules
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            for statement in node.body if isinstance(node, ast.If) else [node]:
                if isinstance(statement, ast.Import):
                    deps |= {alias.name for alias in statement.names}
                elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                    deps.add(statement.module)
                    deps |= {f"{statement.module}.{alias.name}" for alias in statement.names}
        graph[name] = {dep for dep in deps if dep in modules and dep != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first search meets (empty for an acyclic graph)."""
    state, stack, found = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                found.append(stack[stack.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert module_graph()["darkscan.stage_inputs"] == {"darkscan", "darkscan.config", "darkscan.registry"}


def test_no_import_cycles():
    assert cycles(module_graph()) == []


#: bottom to top: a module may import (at module level) only from its own layer or below
LAYERS = [
    (
        "darkscan.beams",
        "darkscan.events",
        "darkscan.expressions",
        "darkscan.seeds",
        "darkscan.plugins",
        "darkscan.registry",
    ),
    ("darkscan.physics",),
    ("darkscan.experiments",),
    ("darkscan.generate",),
    ("darkscan.select", "darkscan.systematics.table"),
    ("darkscan.mva",),
    ("darkscan.stats",),
    ("darkscan.systematics.aggregate",),
    ("darkscan.plots",),
    ("darkscan.archive",),
]


def _layer(module: str) -> int | None:
    matches = [
        (len(prefix), i)
        for i, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(matches)[1] if matches else None


def test_layers_import_downwards_only():
    upward = [
        f"{module} -> {dep}"
        for module, deps in sorted(module_graph().items())
        for dep in sorted(deps)
        if _layer(module) is not None and _layer(dep) is not None and _layer(dep) > _layer(module)
    ]
    assert upward == []
