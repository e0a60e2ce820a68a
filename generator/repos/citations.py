"""Code citations: what a page or PDF shows for a walkthrough step that cites upstream code, and the
check that every citation still holds at the pinned commit.

The snippet comes from the card's lock file (`<id>.lock.yaml` beside the card), which `kb repos sync`
fills from the pinned commit, so pages build without the repository. `check_citations` reads the
repository's object database at the pin (never its working tree) and compares.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from generator.layout import Layout
from generator.problems import Problem, Severity, escalate
from generator.repos import lockfile
from generator.repos.lockfile import Lock
from generator.schema.card import Card, HasRepo, HasWalkthrough
from generator.schema.model_card import ModelCard, Repo
from generator.schema.walkthrough import CodeCitation
from generator.yamlio import dotted

if TYPE_CHECKING:
    from git import Repo as GitRepo

    from generator.knowledge import KnowledgeBase, LoadedCard
    from generator.settings import Project

LANGUAGES = {
    ".py": "python",
    ".pyx": "cython",
    ".sh": "bash",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".md": "markdown",
    ".cu": "cuda",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".c": "c",
    ".h": "c",
    ".hpp": "cpp",
    ".rs": "rust",
    ".js": "javascript",
    ".ts": "typescript",
    ".toml": "toml",
    ".cfg": "ini",
    ".ini": "ini",
    ".txt": "text",
    ".ipynb": "json",
    ".r": "r",
    ".jl": "julia",
    ".cuh": "cuda",
    ".pyi": "python",
    ".ipy": "python",
}
FILENAMES = {"Dockerfile": "docker", "Makefile": "make", "CMakeLists.txt": "cmake"}

NOT_SYNCED_NOTE = "The snippet appears after `kb repos sync`."
UNVERIFIED_NOTE = (
    "The copy of this snippet in the lock file is shown only once it is read from the pinned commit: "
    "it appears after `kb repos sync`."
)
NOT_AT_PIN_NOTE = "The cited lines are not in the repository at the pinned commit (see `kb check citations`)."


@dataclass(frozen=True)
class CitationView:
    """A citation ready to render: where it points and, when known, the snippet itself."""

    path: str
    start: int
    end: int
    language: str
    permalink: str | None
    snippet: str | None
    """The cited lines from the pinned commit; None until `kb repos sync` has filled the lock file."""
    commit: str | None = None
    """The commit the snippet (or the permalink) refers to, when known."""
    note: str | None = None
    """What the page says instead of the snippet when there is none (None when there is a snippet)."""

    @property
    def label(self) -> str:
        """`src/model.py, lines 10-24` (or `line 10`)."""
        span = f"line {self.start}" if self.start == self.end else f"lines {self.start}-{self.end}"
        return f"{self.path}, {span}"


def language_for(path: str, explicit: str | None = None) -> str:
    """Pygments language for a cited file: the card's choice, else from the file name."""
    if explicit:
        return explicit
    name = PurePosixPath(path).name
    return FILENAMES.get(name) or LANGUAGES.get(PurePosixPath(name).suffix.lower(), "text")


def permalink(
    repo: Repo,
    path: str,
    start: int,
    end: int,
    templates: dict[str, str] | None = None,
    commit: str | None = None,
) -> str | None:
    """`<url>/blob/<commit>/<path>#L<a>-L<b>` for GitHub and GitLab; per-host patterns from settings.

    `commit` is the resolved pin when the card gives only a tag (tags can move; commits cannot).
    """
    url = repo.url.removesuffix("/").removesuffix(".git")
    ref = repo.commit or commit or repo.tag
    if not url.startswith(("http://", "https://")) or not ref:
        return None
    host = url.split("/")[2].lower()
    for pattern_host, pattern in (templates or {}).items():
        if host == pattern_host.lower():
            return pattern.format(url=url, commit=ref, path=path, start=start, end=end)
    if host in ("github.com", "gitlab.com") or host.startswith("gitlab."):
        # GitHub writes a range `#L3-L5`, GitLab `#L3-5`; one line is `#L3` on both.
        anchor = (
            f"#L{start}"
            if start == end
            else (f"#L{start}-L{end}" if host == "github.com" else f"#L{start}-{end}")
        )
        return f"{url}/blob/{ref}/{path}{anchor}"
    return None


def lock_matches_pin(repo: Repo, lock: Lock | None) -> bool:
    """Whether the lock file was written for the card's current pin."""
    if lock is None or not lock.commit:
        return False
    if repo.commit:
        return lock.commit == repo.commit
    return lock.tag == repo.tag


@dataclass(frozen=True)
class PinnedCode:
    """A card's cited code as its clone's object database holds it at the pinned commit: what pages and
    PDFs show. A lock file's copy is part of the tree, so it is never shown on its own word."""

    commit: str
    snippets: dict[tuple[str, tuple[int, int]], str]
    """(path, (first, last line)) -> the cited lines, for each citation found at the commit."""


def pinned_code(project: Project, loaded: LoadedCard[Card]) -> PinnedCode | None:
    """The card's citations read at its pinned commit from `external_repos/<repo>` (None when the card
    cites nothing, or the clone or the commit is not there: the snippets then stay unshown)."""
    from generator.repos import gitops

    card = loaded.card
    if not (isinstance(card, HasWalkthrough) and isinstance(card, HasRepo)):
        return None
    cites = [step.cite for step in card.walkthrough if step.cite is not None]
    folder, escape = project.layout.checked_repo_dir(card.repo.name)
    git_repo = gitops.open_repo(folder) if cites and not escape else None
    if git_repo is None:
        return None
    with git_repo:
        commit = gitops.resolve(git_repo, card.repo.commit or str(card.repo.tag))
        if commit is None:
            return None
        snippets = {}
        for cite in cites:
            entry = read_citation(git_repo, commit, cite).entry
            if entry is not None:
                snippets[(entry.path, entry.lines)] = entry.snippet
    return PinnedCode(commit, snippets)


def citation_view(
    repo: Repo,
    cite: CodeCitation,
    lock: Lock | None,
    templates: dict[str, str] | None = None,
    pinned: PinnedCode | None = None,
) -> CitationView:
    """The view of one citation: the snippet only as read from the pinned commit (`pinned`); the lock
    file's copy is never shown on its own, its note says when the snippet appears."""
    start, end = cite.lines
    snippet = pinned.snippets.get((cite.path, (start, end))) if pinned is not None else None
    matches = lock_matches_pin(repo, lock)
    commit = repo.commit or (pinned.commit if pinned else None) or (lock.commit if matches and lock else None)
    note = None
    if snippet is None:
        note = NOT_AT_PIN_NOTE if pinned is not None else NOT_SYNCED_NOTE
        if pinned is None and lock is not None and matches and lock.entry(cite.path, (start, end)):
            note = UNVERIFIED_NOTE
    return CitationView(
        cite.path,
        start,
        end,
        language_for(cite.path, cite.language),
        permalink(repo, cite.path, start, end, templates, commit),
        snippet,
        commit,
        note,
    )


def card_citations(
    project: Project, loaded: LoadedCard[Card], templates: dict[str, str] | None = None
) -> dict[int, CitationView]:
    """Every citation of a card with a walkthrough and a repository, by walkthrough step index."""
    card = loaded.card
    if not (isinstance(card, HasWalkthrough) and isinstance(card, HasRepo)):
        return {}
    pinned = pinned_code(project, loaded)
    return {
        i: citation_view(card.repo, step.cite, loaded.lock, templates, pinned)
        for i, step in enumerate(card.walkthrough)
        if step.cite is not None
    }


# --- reading snippets from git ------------------------------------------------------------------


def file_lines(content: bytes) -> list[str]:
    """A file's lines as git and the forges number them (split at `\\n` only, `\\r` dropped)."""
    text = content.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def join_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class CitationRead:
    """The outcome of reading one citation at a commit: the snippet, or why there is none."""

    entry: lockfile.LockEntry | None
    lines: list[str] | None = None
    """Every line of the cited file (None when the file does not exist)."""
    moved_to: tuple[str, ...] = ()
    """Files of the same name elsewhere in the tree, when the cited path does not exist."""


def read_citation(git_repo: GitRepo, commit: str, cite: CodeCitation) -> CitationRead:
    """Read one citation at `commit` from git's object database."""
    from generator.repos import gitops

    content = gitops.read_file(git_repo, commit, cite.path)
    if content is None:
        same_name = gitops.files_named(git_repo, commit, PurePosixPath(cite.path).name)
        return CitationRead(None, None, tuple(same_name))
    lines = file_lines(content)
    start, end = cite.lines
    if end > len(lines):
        return CitationRead(None, lines)
    return CitationRead(
        lockfile.LockEntry(cite.path, (start, end), join_lines(lines[start - 1 : end])), lines
    )


def find_block(lines: list[str], block: list[str]) -> int | None:
    """1-based line where `block` occurs in `lines` (the first time), or None."""
    if not block:
        return None
    for i in range(len(lines) - len(block) + 1):
        if lines[i : i + len(block)] == block:
            return i + 1
    return None


def citations_of(card: ModelCard) -> Iterator[tuple[int, CodeCitation]]:
    for i, step in enumerate(card.walkthrough):
        if step.cite is not None:
            yield i, step.cite


# --- the check ----------------------------------------------------------------------------------


def check_citations(project: Project, kb: KnowledgeBase, strict: bool = False) -> list[Problem]:
    """Verify every code citation against its repository at the pinned commit.

    Errors: a cited file missing at the pin (with a hint when a file of the same name exists elsewhere),
    a range past the end of the file, a snippet that differs from its copy in the lock file, a missing
    copy, a lock file written for another pin. A repository that is not synced is a warning (an error
    under `strict`): nothing can be verified there.
    """
    from generator.repos import gitops

    problems: list[Problem] = []
    for loaded in kb.models:
        card: ModelCard = loaded.card
        cites = list(citations_of(card))
        if not cites:
            continue
        repo_dir = project.repo_dir(card.repo.name)
        where = project.rel(repo_dir)
        git_repo = gitops.open_repo(repo_dir)
        if git_repo is None:
            problems.append(
                _at(
                    loaded,
                    ("repo",),
                    Severity.WARNING,
                    f"repository '{card.repo.name}' is not synced to {where}: "
                    f"{len(cites)} citation(s) cannot be verified",
                    f"run `kb repos sync {loaded.id}`",
                )
            )
            continue
        with git_repo:
            problems.extend(_check_card(loaded, git_repo, where))
    return escalate(problems, strict)


def _check_card(loaded: LoadedCard[ModelCard], git_repo: GitRepo, where: str) -> list[Problem]:
    from generator.repos import gitops

    card = loaded.card
    repo = card.repo
    commit = gitops.resolve(git_repo, repo.commit) if repo.commit else gitops.resolve(git_repo, str(repo.tag))
    if commit is None:
        what = f"commit {repo.commit[:7]}" if repo.commit else f"tag '{repo.tag}'"
        return [
            _at(
                loaded,
                ("repo", "commit" if repo.commit else "tag"),
                Severity.WARNING,
                f"the pinned {what} is not in {where}: its citations cannot be verified",
                f"run `kb repos sync {loaded.id}`",
            )
        ]
    short = commit[:7]
    lock = loaded.lock
    lock_name = str(Layout.lock_file(Path(loaded.rel)))
    lock_is_current = lock is not None and lock.commit == commit
    out: list[Problem] = []
    for i, cite in citations_of(card):
        problem = _cite_problem(loaded, i, cite, read_citation(git_repo, commit, cite), commit, lock_name)
        if problem is not None:
            out.append(problem)
    copies_unchanged = not out
    if lock is not None and not lock_is_current and copies_unchanged:
        out.append(
            _at(
                loaded,
                ("repo",),
                Severity.ERROR,
                f"{lock_name} records commit {lock.commit[:7]} but the card pins {short}",
                "the cited snippets are unchanged: record the new pin with "
                f"`kb repos sync {loaded.id} --update-citations`",
            )
        )
    return out


def _cite_problem(
    loaded: LoadedCard[ModelCard],
    i: int,
    cite: CodeCitation,
    found: CitationRead,
    commit: str,
    lock_name: str,
) -> Problem | None:
    """What is wrong with one citation at the pinned commit, against its copy in the lock file."""
    repo, lock, short = loaded.card.repo, loaded.lock, commit[:7]
    loc = ("walkthrough", i, "cite")
    start, end = cite.lines
    if found.lines is None:
        hint = "check `path` against the repository at the pin"
        if found.moved_to:
            hint = (
                f"a file of that name is at {', '.join(found.moved_to)}: "
                "if it moved, update `path` and check `lines`"
            )
        return _at(loaded, loc, Severity.ERROR, f"{cite.path} does not exist at {short} in {repo.name}", hint)
    if found.entry is None:
        return _at(
            loaded,
            loc,
            Severity.ERROR,
            f"lines {start}-{end} of {cite.path} are past the end of the file "
            f"({len(found.lines)} lines at {short})",
            "fix `lines`",
        )
    copy = lock.entry(cite.path, (start, end)) if lock is not None else None
    if copy is None:
        return _at(
            loaded,
            loc,
            Severity.ERROR,
            f"no copy of {cite.path}:{start}-{end} in {lock_name}",
            f"run `kb repos sync {loaded.id}` to write it",
        )
    if copy.snippet == found.entry.snippet:
        return None
    assert lock is not None
    if lock.commit == commit:
        hint = f"the lock file was edited by hand: restore it with `kb repos sync {loaded.id}`"
    else:
        hint = (
            f"the copy was taken at {lock.commit[:7]}; review the change with "
            f"`kb repos sync {loaded.id} --update-citations`"
        )
        moved = find_block(found.lines, copy.snippet.splitlines())
        if moved is not None and moved != start:
            last = moved + (end - start)
            hint = (
                f"the copied code is now at lines {moved}-{last}: "
                f"set `lines: [{moved}, {last}]`, or {hint.split('; ', 1)[1]}"
            )
    message = f"{cite.path}:{start}-{end} at {short} differs from its copy in {lock_name}"
    return _at(loaded, loc, Severity.ERROR, message, hint)


def _at(
    loaded: LoadedCard[Card], loc: tuple[str | int, ...], severity: Severity, message: str, hint: str = ""
) -> Problem:
    line, col = loaded.doc.locate(loc)
    return Problem(loaded.rel, message, severity, dotted(loc), line, col, hint)
