"""Facts shown identically on the page and in the PDF, computed once from a validated card."""

from __future__ import annotations

from generator.schema.model_card import ModelCard, Repo


def web_url(repo: Repo) -> str | None:
    """The repository's browsable http(s) URL (without `.git`), or None for local/ssh URLs."""
    url = repo.url
    if not url.startswith(("http://", "https://")):
        return None
    return url.removesuffix("/").removesuffix(".git")


def commit_url(repo: Repo) -> str | None:
    """Link to the pinned commit (or tag) on the forge."""
    base = web_url(repo)
    if base is None:
        return None
    ref = repo.commit or repo.tag
    return f"{base}/tree/{ref}"


def pin_label(repo: Repo) -> str:
    """`0123abc (v1.0)`, `0123abc` or `v1.0`."""
    short = repo.commit[:7] if repo.commit else None
    if short and repo.tag:
        return f"{short} ({repo.tag})"
    return short or str(repo.tag)


def license_label(card: ModelCard) -> str:
    """`Apache-2.0`, or `Apache-2.0 (code), CC-BY-NC-ND-4.0 (weights)` when they differ."""
    if card.weights_license and card.weights_license != card.license:
        return f"{card.license} (code), {card.weights_license} (weights)"
    return card.license


def license_note(card: ModelCard) -> str:
    """The sentence every page and PDF carries (seed 000's reminder)."""
    return f"This walkthrough references {card.repo.name} under {license_label(card)}."


def card_path(card_id: str, folder: str = "model_cards") -> str:
    return f"kb/{folder}/{card_id}.yaml"


def pdf_name(card_id: str) -> str:
    return f"{card_id}.pdf"


def token_label(count: int) -> str:
    """A token count as pages and PDFs show it: 500000 -> `500K`, 2_000_000_000 -> `2B`, 1_500_000 ->
    `1.5M` (six significant digits; the exact count is shown beside it where it matters)."""
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            return f"{count / scale:g}{suffix}"
    return str(count)
