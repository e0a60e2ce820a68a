"""The shape ARCHITECTURE.md describes, checked on the source: imports go one way, the knowledge base is
loaded only by the entry points, one place builds the license sentence, functions stay short, and
nothing that carries a card, a report or a project is typed `Any`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.factory import REPO_ROOT

PACKAGE = REPO_ROOT / "generator"

LAYERS: list[list[str]] = [
    [
        "generator",
        "generator.exceptions",
        "generator.problems",
        "generator.io",
        "generator.yamlio",
        "generator.workers",
        "generator.settings",
        "generator.paths",
        "generator.signing",
        "generator.trusted",
    ],
    ["generator.schema"],
    [
        "generator.repos.lockfile",
        "generator.smoke.report",
        "generator.layout",
        "generator.forge",
        "generator.policy",
    ],
    ["generator.knowledge"],
    ["generator.repos", "generator.smoke", "generator.hub"],
    ["generator.facts"],
    ["generator.render", "generator.checks"],
    ["generator.pdf", "generator.interop"],
    ["generator.stamp", "generator.sitedir"],
    ["generator.build"],
    ["generator.plugin", "generator.commands", "generator.cli", "generator.__main__"],
]
"""Lowest first: a module imports modules of its own layer or below, never above (ARCHITECTURE.md)."""

ENTRY_POINTS = ("generator/cli.py", "generator/plugin.py", "generator/commands/")
"""Where the knowledge base may be loaded; every stage below is handed it."""

NOT_YET: tuple[str, ...] = ()
"""Folders the length and typing rules skip while being rewritten (none now)."""


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def layer_of(module: str) -> int:
    best, layer = "", -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, layer = prefix, i
    assert layer >= 0, f"{module} is in no layer of LAYERS: add it (and to ARCHITECTURE.md)"
    return layer


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of import nodes inside `if TYPE_CHECKING:` blocks (annotations only, never executed)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def imports(known: dict[str, Path]) -> Iterator[tuple[str, str, int, bool]]:
    """(importer, imported module of the package, line, runtime?) for every import, functions included."""
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    yield name, target, node.lineno, id(node) not in typing_only


def test_no_module_imports_one_above_it() -> None:
    known = modules()
    wrong = [
        f"{known[a].relative_to(REPO_ROOT)}:{line}: {a} (layer {layer_of(a)}) imports {b} "
        f"(layer {layer_of(b)})"
        for a, b, line, _ in imports(known)
        if layer_of(b) > layer_of(a)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules() -> None:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for a, b, _line, runtime in imports(known):
        if runtime:
            graph[a].add(b)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def _sources() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(REPO_ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_only_the_entry_points_load_the_knowledge_base() -> None:
    callers = [
        rel
        for rel, text in _sources()
        if re.search(r"\bload_knowledge_base\(", text) and rel != "generator/knowledge.py"
    ]
    assert callers and all(rel.startswith(ENTRY_POINTS) for rel in callers), callers


def test_the_license_sentence_is_built_in_one_place() -> None:
    places = [rel for rel, text in _sources() if "This walkthrough references" in text]
    templates = [
        p
        for p in (REPO_ROOT / "templates").rglob("*")
        if p.is_file() and "This walkthrough references" in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert places == ["generator/schema/labels.py"] and not templates


def test_functions_are_short_or_say_why() -> None:
    long = []
    for rel, text in _sources():
        if rel.startswith(NOT_YET):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append((rel, node.name, length, "longer because" in (ast.get_docstring(node) or "")))
    assert len(long) <= 2 and all(reason for *_, reason in long), long


def test_nothing_carrying_a_card_report_or_project_is_typed_any() -> None:
    names = {"card", "loaded", "report", "project", "kb", "run", "job"}
    untyped = []
    for rel, text in _sources():
        if rel.startswith(NOT_YET):
            continue
        for node in ast.walk(ast.parse(text)):
            found: list[tuple[str, ast.expr | None]] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                found = [(arg.arg, arg.annotation) for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
            elif isinstance(node, ast.AnnAssign):
                target = node.target
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                found = [(name, node.annotation)]
            for name, annotation in found:
                shown = ast.unparse(annotation) if annotation is not None else "nothing"
                if name in names and (shown in ("Any", "object", "nothing", "LoadedCard")):
                    untyped.append(f"{rel}:{node.lineno}: {name}: {shown}")
    assert not untyped, "\n".join(untyped)


def test_every_type_ignore_says_why() -> None:
    bare = [
        f"{rel}:{i}"
        for rel, text in _sources()
        if not rel.startswith(NOT_YET)
        for i, line in enumerate(text.splitlines(), 1)
        if (m := re.search(r"type:\s*ignore(\[[^\]]*\])?(.*)$", line)) and not m.group(2).strip()
    ]
    assert not bare, bare
