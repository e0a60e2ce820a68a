"""Hugging Face `README.md` <-> cards.

Export: YAML front matter the Hub accepts (license mapped from SPDX, tags, library name, pipeline tag,
base model, datasets) and the card's sections as Markdown, from `templates/hf/README.md.j2`: the same
sections, in the same order, with the same rows as the card's page and PDF (`generator.sections`).
The body starts with a "Model details" list that states the card's own facts as the card writes them
(id, SPDX license, code repository, hub checkpoints, training data): the export's own block, like the
front matter, so that importing an exported README gives the same metadata back.

Import: a README's front matter and body -> a model card skeleton. What has no field is kept as
comments in the skeleton and reported; what is unknown is a placeholder (`<...>`, `TODO`), which
`kb validate` reports as a warning until it is filled.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.facts import CardFacts
from generator.interop import markdown
from generator.interop.licenses import hub_to_spdx, spdx_to_hub
from generator.problems import Problem, Severity
from generator.schema.common import SLUG
from generator.schema.derived import FineTunedCard, SAECard, format_token_count
from generator.schema.labels import web_url
from generator.schema.model_card import ModelCard
from generator.sections import card_view
from generator.yamlio import Document, parse_text, read_bounded

PIPELINE_TAG = "feature-extraction"
"""Every card in this knowledge base is about embeddings: the Hub's task for that."""

DOMAIN_TAGS = {
    "dna": "genomics",
    "rna": "genomics",
    "protein": "proteomics",
    "fmri": "neuroimaging",
    "smri": "neuroimaging",
    "eeg": "neuroscience",
    "text": "nlp",
    "multimodal": "multimodal",
}
MODALITIES = tuple(DOMAIN_TAGS)
FIXED_TAGS = {"foundation-model", "sparse-autoencoder", "fine-tuned", *DOMAIN_TAGS.values()}
"""Tags the export derives from the modality or kind (not read back into a field)."""
FAMILY_TAGS = {"transformer", "bert", "esm", "mamba", "hyena", "striped-hyena", "vit", "swin", "ssm", "cnn"}
"""Tags a foreign README may carry that name an architecture family (ours state it in Model details)."""
DETAILS = "Model details"

Card = ModelCard | SAECard | FineTunedCard


def front_matter(card: Card) -> dict[str, Any]:
    """The Hub metadata of a card, in the order the Hub's own template uses."""
    meta: dict[str, Any] = {}
    if isinstance(card, ModelCard):
        license_expr: str | None = card.weights_license or card.license
        link = web_url(card.repo)
        tags = [card.modality, DOMAIN_TAGS[card.modality], card.architecture.family, "foundation-model"]
        hub_ids = [c.hub_id for c in card.checkpoints if c.hub_id]
        loader = card.smoke_test.loader if card.smoke_test else None
        library = "transformers" if hub_ids and loader != "entry-point" else None
        base_model = None
        datasets = [s.name for s in card.training.sources if _hub_like(s.name)]
    else:
        license_expr = card.license
        link = None
        kind_tag = "sparse-autoencoder" if isinstance(card, SAECard) else "fine-tuned"
        tags = [kind_tag, card.base_model.short_name]
        library = "pytorch"
        base_model = card.base_model.hub_id
        datasets = [card.training.dataset] if _hub_like(card.training.dataset) else []
    if license_expr:
        meta.update(spdx_to_hub(license_expr, link))
    meta["tags"] = list(dict.fromkeys(t for t in tags if t))
    if library:
        meta["library_name"] = library
    meta["pipeline_tag"] = PIPELINE_TAG
    if base_model:
        meta["base_model"] = base_model
    if datasets:
        meta["datasets"] = datasets
    return meta


def _hub_like(name: str) -> bool:
    """Names the Hub can link as a dataset id (`owner/name` or a bare slug)."""
    return re.fullmatch(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?", name or "") is not None


def dump_front_matter(meta: dict[str, Any]) -> str:
    """`---\\n<yaml>---\\n`, block style, keys in the given order."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)  # round-trip mode keeps the keys in the order given
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(meta, buf)
    return "---\n" + buf.getvalue() + "---\n"


def details(card: Card) -> list[tuple[str, str]]:
    """The "Model details" list: (label, value) of the facts the import reads back."""
    out: list[tuple[str, str]] = [("Knowledge-base id", card.id)]
    if isinstance(card, ModelCard):
        out.append(("Modality", card.modality))
        if card.architecture.family:
            out.append(("Architecture family", card.architecture.family))
        out.append(("License", card.license))
        if card.weights_license:
            out.append(("Weights license", card.weights_license))
        out.append(("Code", card.repo.url))
        if card.repo.commit:
            out.append(("Commit", card.repo.commit))
        if card.repo.tag:
            out.append(("Tag", card.repo.tag))
        hub_ids = [c.hub_id for c in card.checkpoints if c.hub_id]
        if hub_ids:
            out.append(("Hub checkpoints", ", ".join(hub_ids)))
        if card.training.sources:
            out.append(("Training data", "; ".join(s.name for s in card.training.sources)))
        if card.architecture.embedding_dim:
            out.append(("Embedding width", str(card.architecture.embedding_dim)))
    else:
        out.append(("Base model", card.base_model.name))
        if card.license:
            out.append(("License", card.license))
        out.append(("Training tokens", format_token_count(card.training.tokens)))
    return out


def export_readme(card: Card, facts: CardFacts, renderer: Any) -> str:
    """The README.md text for `card` (front matter + Markdown from templates/hf/README.md.j2)."""
    body = renderer.render(
        "hf/README.md.j2", card=card, facts=facts, view=card_view(card, facts), details=details(card)
    )
    return dump_front_matter(front_matter(card)) + "\n" + body.lstrip("\n")


# --- import -------------------------------------------------------------------------------------


@dataclass
class ReadmeImport:
    """A README read into model card data, the Hub metadata it had, and every problem met."""

    data: dict[str, Any]
    metadata: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    kept: list[tuple[str, int, str]] = field(default_factory=list)
    """(section title, line, text) of the parts with no field: written as comments in the skeleton."""


def read_front_matter(text: str, display: str) -> tuple[dict[str, Any], str, int, list[Problem]]:
    """(metadata, body, body's first line, problems) of a README.

    The front matter comes from a file nobody reviewed: it is parsed by the cards' bounded YAML loading
    (`generator.yamlio`: no anchors or aliases, no deep nesting), so an alias bomb is one located
    error, not gigabytes of memory."""
    raw, body, first = markdown.split_front_matter(text)
    if raw is None:
        return (
            {},
            body,
            first,
            [
                Problem(
                    display,
                    "no YAML front matter (a '---' block at the top): "
                    "the skeleton has only what the Markdown gives",
                    Severity.WARNING,
                    line=1,
                    col=1,
                )
            ],
        )
    doc = parse_text(raw, Document(display, what="imported file"))
    # The front matter starts on the README's second line (after `---`).
    found = [dataclasses.replace(p, line=p.line + 1 if p.line else 1) for p in doc.problems]
    if found:
        return {}, body, first, found
    if not isinstance(doc.data, dict):
        return {}, body, first, [Problem(display, "the front matter is not a YAML mapping", line=2, col=1)]
    return doc.data, body, first, []


def import_readme(path: Path, card_id: str | None = None, display: str | None = None) -> ReadmeImport:
    """Read a Hugging Face README into a model card skeleton."""
    where = display or str(path)
    unread: list[Problem] = []
    raw = read_bounded(path, where, None, unread, "README")  # at most 1 MiB, a regular file
    if raw is None:
        return ReadmeImport({}, {}, unread)
    meta, body, first, problems = read_front_matter(raw.decode("utf-8", errors="replace"), where)
    doc = markdown.parse(body, first)
    facts = _details(doc)
    result = ReadmeImport({}, meta, problems)

    def report(message: str, line: int = 0, section: str = "", severity: Severity = Severity.WARNING) -> None:
        result.problems.append(Problem(where, message, severity, section, line, 1 if line else 0))

    name = _unescape(doc.title.strip()) or path.resolve().parent.name
    slug = card_id or facts.get("knowledge-base id") or _slugify(name)
    if not card_id and (refused := _not_an_id(doc, where, slug)):
        return ReadmeImport({}, meta, [*problems, refused])
    tags = [str(t) for t in meta.get("tags") or []]
    modality = facts.get("modality") or next((t for t in tags if t in MODALITIES), None)
    if modality is None:
        report("no modality found (no 'Modality' detail and no modality tag): fill in 'modality'")
    family = facts.get("architecture family") or next((t for t in tags if t in FAMILY_TAGS), None)
    hub_license = hub_to_spdx(meta)
    code_license = facts.get("license") or hub_license
    weights_license = facts.get("weights license")
    if code_license is None:
        report(f"license {meta.get('license')!r} has no SPDX equivalent: fill in 'license'")
    summary = next(
        (t.strip() for _, t in doc.preamble if t.strip() and not t.lstrip().startswith(("!", "<"))), ""
    )
    hub_ids = [h.strip() for h in (facts.get("hub checkpoints") or "").split(",") if h.strip()]
    sources = [s.strip() for s in (facts.get("training data") or "").split(";") if s.strip()]
    if not sources:
        sources = [str(d) for d in meta.get("datasets") or []]
    data = _skeleton(
        slug, name, summary, modality, (code_license, weights_license), family, facts, meta, hub_ids, sources
    )
    if meta.get("base_model"):
        report(
            f"base_model '{meta['base_model']}' has no field in a model card: kept as a comment; "
            "an SAE or fine-tuned card can point at it",
            severity=Severity.INFO,
        )
        result.kept.append(("front matter: base_model", 0, str(meta["base_model"])))
    for section in doc.sections:
        if section.title.strip().lower() == DETAILS.lower() or not section.text.strip():
            continue
        result.kept.append((section.title, section.line, section.text))
        report(
            f"section '{section.title}' has no field in the skeleton; kept as a comment at the end "
            "of the card",
            section.line,
            section.title,
            Severity.INFO,
        )
    result.data = data
    return result


def _skeleton(
    slug: str,
    name: str,
    summary: str,
    modality: str | None,
    licenses: tuple[str | None, str | None],
    family: str | None,
    facts: dict[str, str],
    meta: dict[str, Any],
    hub_ids: list[str],
    sources: list[str],
) -> dict[str, Any]:
    """The card's data from what the README gave, placeholders where it gave nothing."""
    code_license, weights_license = licenses
    repo: dict[str, Any] = {"name": slug, "url": facts.get("code") or "<repository-url>"}
    if facts.get("commit"):
        repo["commit"] = facts["commit"]
    if facts.get("tag"):
        repo["tag"] = facts["tag"]
    if "commit" not in repo and "tag" not in repo:
        repo["tag"] = "<tag-or-commit>"
    width = int(facts["embedding width"]) if (facts.get("embedding width") or "").isdigit() else None
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": slug,
        "name": name,
        "summary": summary or "TODO: one sentence for the catalog",
        "modality": modality or "<dna|rna|protein|fmri|smri|eeg|text|multimodal>",
        "license": code_license or "<SPDX license expression>",
    }
    if weights_license:
        data["weights_license"] = weights_license
    data["repo"] = repo
    arch: dict[str, Any] = {}
    if family:
        arch["family"] = family
    if width:
        arch["embedding_dim"] = width
    if arch:
        data["architecture"] = arch
    data["pooling"] = {"strategy": "mean", "notes": "TODO: check the pooling this model needs"}
    if sources:
        data["training"] = {"sources": [{"name": s} for s in sources]}
    if hub_ids:
        data["checkpoints"] = [
            {"name": h.split("/")[-1], "path": h.split("/")[-1].lower(), "hub_id": h} for h in hub_ids
        ]
    elif meta.get("library_name") == "transformers":
        data["checkpoints"] = [{"name": slug, "path": slug, "hub_id": "<owner/name>"}]
    data["integration"] = {
        "projector": {"in_dim": width or 768, "hidden_dim": 1024, "out_dim": 512, "dropout": 0.1},
        "fitting": "" if width else "TODO: set in_dim to the pooled embedding width",
    }
    if not data["integration"]["fitting"]:
        del data["integration"]["fitting"]
    return data


def _not_an_id(doc: markdown.MarkdownDoc, where: str, slug: str) -> Problem | None:
    """The README's "Knowledge-base id" becomes a file name under kb/: one that is not a card id (`../x`,
    `/tmp/x`) would be written outside it, so it is refused, located at its line."""
    line = next((n for n, key, _ in _detail_items(doc) if key.strip().lower() == "knowledge-base id"), 0)
    if not line or re.fullmatch(SLUG, slug):
        return None
    return Problem(
        where,
        f"'Knowledge-base id' {slug!r} is not a card id (lower-case letters, digits, '.', '_' and '-'): "
        "nothing was written",
        Severity.ERROR,
        DETAILS,
        line,
        1,
        "give a card id, or pass --id",
    )


def _detail_items(doc: markdown.MarkdownDoc) -> list[tuple[int, str, str | None]]:
    section = doc.section(DETAILS)
    return section.items() if section is not None else []


def _details(doc: markdown.MarkdownDoc) -> dict[str, str]:
    out = {}
    for _, key, value in _detail_items(doc):
        if value is not None:
            out[key.strip().lower()] = _unescape(value.strip().replace("`", ""))
    return out


def _unescape(text: str) -> str:
    """Undo the `cell`/`inline` filters' escaping (`generator.render.markup.plain`): backslash escapes,
    then entities."""
    import html

    return html.unescape(re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text))


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug or "imported-model"
