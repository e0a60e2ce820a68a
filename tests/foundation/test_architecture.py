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
        "generator.yamledit",
        "generator.workers",
        "generator.gitdates",
        "generator.layout",
        "generator.settings",
        "generator.paths",
        "generator.signing",
        "generator.trusted",
    ],
    ["generator.schema"],
    ["generator.repos.lockfile", "generator.smoke.report", "generator.forge", "generator.policy"],
    ["generator.knowledge"],
    ["generator.repos", "generator.smoke", "generator.hub"],
    ["generator.facts"],
    ["generator.sections"],
    ["generator.render", "generator.checks"],
    ["generator.pdf", "generator.interop"],
    ["generator.stamp", "generator.sitedir", "generator.lock", "generator.incremental", "generator.engines"],
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


ARCHITECTURE = (REPO_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_module_is_on_the_map() -> None:
    """Each module of the package is named in ARCHITECTURE.md, by its file or by its folder."""
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        parts = path.relative_to(PACKAGE).parts
        names = {rel, f"`{parts[-1]}`", f"{path.name}`"} if len(parts) == 1 else {f"generator/{parts[0]}/"}
        if not any(n in ARCHITECTURE for n in names):
            missing.append(rel)
    assert missing == [], "add these to ARCHITECTURE.md's list of packages and modules"


def _is_text(node: ast.AST) -> bool:
    """A string that is prose, not a path: documentation (a bare string statement) or a sentence."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value.strip()


def path_joins(text: str) -> Iterator[tuple[int, str]]:
    """(line, what) of code that builds a path `Layout` owns: `x / "checkpoints"` (or `"smoke"`,
    `"pdf"`), a string that starts a checkpoints folder, an f-string building a `{id}.pdf`, `.json` or
    `.yaml` file name (messages, which are sentences, and documentation are not paths)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and side.value in ("checkpoints", "smoke", "pdf"):
                    yield node.lineno, f"joins {side.value!r}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(("/checkpoints", "checkpoints/", "external_repos/", ".kb-cache/")):
                yield node.lineno, f"names {node.value!r}"
        elif isinstance(node, ast.JoinedStr) and len(node.values) >= 2:
            last, before = node.values[-1], node.values[-2]
            named = isinstance(last, ast.Constant) and str(last.value) in (".pdf", ".json", ".yaml")
            prose = any(_is_text(v) for v in node.values)
            if named and isinstance(before, ast.FormattedValue) and not prose:
                yield node.lineno, f"builds a {last.value} file name"


def test_only_the_layout_joins_paths() -> None:
    """The checkpoint folder, lock files, PDFs, smoke reports and the cache are named by `Layout` only;
    no template writes `external_repos/` (it is a setting)."""
    found = [
        f"{rel}:{line}: {what}"
        for rel, text in _sources()
        if rel != "generator/layout.py"
        for line, what in path_joins(text)
    ]
    templates = [
        p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "templates").rglob("*.j2")
        if "external_repos" in p.read_text(encoding="utf-8")
    ]
    assert found == [] and templates == []


def test_hub_uses_smoke_and_not_the_reverse() -> None:
    known = modules()
    back = [
        f"{a} imports {b}"
        for a, b, _, _ in imports(known)
        if a.startswith("generator.smoke") and b.startswith("generator.hub")
    ]
    assert back == []


SMOKE_INTERFACE = {"generator.smoke.report", "generator.smoke.status", "generator.smoke.fingerprint"}
SMOKE_DRIVER = {
    "generator.commands.smoke": {
        "generator.smoke.executor",
        "generator.smoke.loader",
        "generator.smoke.signed",
        "generator.smoke.selection",
        "generator.smoke.published",
    }
}
"""`kb smoke` runs the tests through the executor (and checks that torch is installed), signs the
reports (`signed`), picks the cards a machine can run, that the published reports do not cover or that
changed (`selection`: `--list`, `--fits`, `--stale`, `--changed-since`), and takes the newest verified of
the fetched reports (`published`: `--take-newest`); no other command needs them."""


def test_other_packages_use_only_the_smoke_interface() -> None:
    known = modules()
    wrong = [
        f"{a}:{line} imports {b}"
        for a, b, line, _ in imports(known)
        if b.startswith("generator.smoke.")
        and not a.startswith("generator.smoke")
        and b not in SMOKE_INTERFACE | SMOKE_DRIVER.get(a, set())
    ]
    assert wrong == []


def test_every_loader_name_has_its_registered_loader() -> None:
    import typing

    from generator.schema.smoke import SmokeTest
    from generator.smoke.loader import LOADERS

    names = set(typing.get_args(SmokeTest.model_fields["loader"].annotation))
    assert names == set(LOADERS)


def test_every_kind_is_declared_whole() -> None:
    """Each declared kind has what its declaration promises: a valid example card, a skeleton, a
    committed JSON Schema, and a print template when printed (its own or the generic one)."""
    from generator.schema import CARD_KINDS, GENERIC_PRINT

    templates = REPO_ROOT / "templates"
    for kind in CARD_KINDS.values():
        kind.model.model_validate(dict(kind.example))
        assert (templates / kind.skeleton_template).is_file(), kind.name
        assert (REPO_ROOT / kind.schema_file).is_file(), kind.name
        if kind.printed:
            assert (templates / kind.print_template).is_file() or (templates / GENERIC_PRINT).is_file()
