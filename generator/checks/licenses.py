"""`kb check licenses`: every card's license is stated, valid, allowed and consistent with upstream.

Per model card:

- `license` and `weights_license` are valid SPDX expressions (the schema already refuses invalid
  ones); a deprecated or non-canonical id (`GPL-2.0` for `GPL-2.0-only`) is a warning;
- the settings' license policy (`plugins.kb.license_policy` in mkdocs.yml) refuses (error) or flags
  (info) licenses; entries are SPDX ids or shell patterns such as `CC-BY-NC-*`;
- where the upstream repository is synced under `external_repos/`, its license file is identified
  and must be one of the licenses of the card's code license; no license file is an error (nobody
  may redistribute code without one);
- the rendered page and the PDF carry the license note (`generator.schema.labels.license_note`);
  outputs not built yet are skipped with an info.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.checks.license_id import family, find_license_files, identify_file
from generator.layout import Layout
from generator.paths import outside
from generator.policy import license_ids, matches
from generator.problems import Problem, Severity, escalate
from generator.schema.card import Card, HasLicense
from generator.schema.labels import license_note

if TYPE_CHECKING:
    from generator.knowledge import KnowledgeBase, LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project


def check_licenses(project: Project, kb: KnowledgeBase, strict: bool = False) -> list[Problem]:
    """Every license problem of the model cards in `kb` (warnings become errors under `strict`)."""
    problems: list[Problem] = policy_problems(project, kb)
    for loaded in kb.models:
        problems += _expression_problems(loaded)
        problems += _upstream_problems(project, loaded)
        problems += _note_problems(project, loaded)
    return escalate(problems, strict)


def policy_problems(project: Project, kb: KnowledgeBase) -> list[Problem]:
    """The license policy alone (cheap, no upstream files), for every card that states a license (model,
    SAE, fine-tuned, dataset cards): `kb build` refuses to publish a card whose license it refuses."""
    return [p for loaded in kb.all() for p in _policy_problems(project, loaded)]


def _problem(
    loaded: LoadedCard[Card], field: str, message: str, severity: Severity = Severity.ERROR, hint: str = ""
) -> Problem:
    line, col = loaded.doc.locate((field,)) if field in (loaded.doc.data or {}) else (0, 0)
    return Problem(loaded.rel, message, severity, field, line, col, hint)


def _license_fields(card: Card) -> list[tuple[str, str]]:
    """(field, expression) of the licenses a card states: code (`license`) and `weights_license`."""
    return card.license_fields() if isinstance(card, HasLicense) else []


def _expression_problems(loaded: LoadedCard[Card]) -> list[Problem]:
    from generator.schema.common import spdx_check

    out = []
    for name, _value in _license_fields(loaded.card):
        raw = (loaded.doc.data or {}).get(name)
        if not isinstance(raw, str):
            continue
        normalised, errors = spdx_check(raw)
        if errors:
            out.append(_problem(loaded, name, errors[0]))
        elif normalised != raw:
            out.append(
                _problem(
                    loaded,
                    name,
                    f"license id '{raw}' is deprecated or not in canonical form",
                    Severity.WARNING,
                    hint=f"write '{normalised}'",
                )
            )
    return out


def _policy_problems(project: Project, loaded: LoadedCard[Card]) -> list[Problem]:
    policy = project.settings.license_policy
    out = []
    for name, value in _license_fields(loaded.card):
        what = "weights" if name == "weights_license" else "code"
        for license_id in license_ids(value):
            refused = matches(policy.refuse, license_id)
            flagged = matches(policy.flag, license_id)
            if refused:
                out.append(
                    _problem(
                        loaded,
                        name,
                        f"the {what} license {license_id} is refused by the license policy "
                        f"('{refused}' in plugins.kb.license_policy.refuse of mkdocs.yml)",
                        hint="leave this card out of the published site, or change the policy",
                    )
                )
            elif flagged:
                out.append(
                    _problem(
                        loaded,
                        name,
                        f"the {what} license {license_id} is flagged by the license policy "
                        f"('{flagged}' in plugins.kb.license_policy.flag); the page shows a badge",
                        Severity.INFO,
                    )
                )
    return out


def upstream_license_files(project: Project, loaded: LoadedCard[ModelCard]) -> list[Path] | None:
    """The license files of the card's synced repository ([] when it has none; None when not synced).

    A git clone is read through `generator.repos.status` (the files in the tree at the pin); a plain
    folder is searched for LICENSE*, LICENCE*, COPYING* at its top.
    """
    repo_dir = project.repo_dir(loaded.card.repo.name)
    if not repo_dir.is_dir():
        return None
    try:
        from generator.repos.status import repo_status

        status = repo_status(project, loaded)
    except Exception:  # a broken clone is `kb repos status`'s to report; fall back to the folder
        status = None
    if status is not None and status.present:
        if status.license_file:
            first = project.root / status.license_file
            rest = [p for p in find_license_files(repo_dir) if p != first]
            return (
                [first, *rest] if outside(first, repo_dir) is None else rest
            )  # never read through a link out
        return []
    return find_license_files(repo_dir)


def _upstream_problems(project: Project, loaded: LoadedCard[ModelCard]) -> list[Problem]:
    repo = loaded.card.repo
    files = upstream_license_files(project, loaded)
    if files is None:
        return [
            _problem(
                loaded,
                "repo",
                f"upstream repository '{repo.name}' is not synced: its license file was not checked",
                Severity.INFO,
                hint=f"run `kb repos sync {loaded.id}`",
            )
        ]
    rel_repo = project.rel(project.repo_dir(repo.name))
    if not files:
        return [
            _problem(
                loaded,
                "license",
                f"upstream repository {rel_repo} ({repo.url}) has no license file "
                "(LICENSE, LICENCE or COPYING): its code may not be redistributed or reused",
                hint="ask upstream to add one, or pin a commit that has one; "
                "do not publish the card until then",
            )
        ]
    identified = {str(project.rel(p)): identify_file(p) for p in files}
    known = {f: ids for f, ids in identified.items() if ids}
    if not known:
        names = ", ".join(identified)
        return [
            _problem(
                loaded,
                "license",
                f"the upstream license file {names} is unrecognised: compare "
                f"it with the card's license {loaded.card.license} by hand",
                Severity.WARNING,
            )
        ]
    stated = {family(i) for i in license_ids(loaded.card.license)}
    if stated & {family(s) for ids in known.values() for s in ids}:
        return []
    found = ", ".join(f"{f} is {' / '.join(ids)}" for f, ids in known.items())
    return [
        _problem(
            loaded,
            "license",
            f"the card says the code is under {loaded.card.license}, but the "
            f"upstream license file says otherwise ({found})",
            hint="correct `license` (or `weights_license` if only the weights differ), or the pin",
        )
    ]


def _squash(text: str) -> str:
    """Letters and digits only: markup, escapes and PDF line breaks do not matter for the comparison."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _note_problems(project: Project, loaded: LoadedCard[ModelCard]) -> list[Problem]:
    note = license_note(loaded.card)
    wanted = _squash(note)
    out: list[Problem] = []
    outputs = _outputs(project, loaded)
    if not any(path.exists() for _, path in outputs):
        return [
            _problem(
                loaded,
                "",
                "no page or PDF of this card is built yet: license notes not checked",
                Severity.INFO,
                hint="run `kb build`",
            )
        ]
    for what, path in outputs:
        if not path.exists():
            continue
        text = _text_of(path)
        if text is None:
            out.append(
                Problem(project.rel(path), f"cannot read the {what} to check its license note", Severity.INFO)
            )
        elif wanted not in _squash(text):
            out.append(
                Problem(
                    project.rel(path),
                    f"the {what} of {loaded.id} lacks the license note '{note}'",
                    hint="render it again (`kb build`) or restore the note in the template",
                )
            )
    return out


def _outputs(project: Project, loaded: LoadedCard[ModelCard]) -> list[tuple[str, Path]]:
    page = Layout.page_path(loaded.kind, loaded.id)
    return [
        ("page", project.docs_dir / page),
        ("built page", Layout.built_page(project.site_dir, page)),
        ("PDF", project.layout.pdf_file(loaded.id)),
    ]


def _text_of(path: Path) -> str | None:
    try:
        if path.suffix == ".pdf":
            return _pdf_text(path)
        if path.suffix == ".html":
            from lxml import html

            return str(html.parse(str(path)).getroot().text_content())
        return path.read_text(encoding="utf-8")
    except Exception:
        return None


def _pdf_text(path: Path) -> str | None:
    try:
        import pypdf
    except ImportError:
        return None  # reported as "cannot read": pypdf is in the test extra
    reader: Any = pypdf.PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
