"""`kb check pins`: every card's pinned commit exists on its forge.

A pin that exists nowhere upstream breaks `kb repos sync`, and with it the site's own deploy. This
check proves each pin the cheap way a forge allows: a shallow fetch of that one commit
(`git fetch --depth 1 <url> <sha>`) into a throwaway bare repository, without cloning any history.
One located error per card whose pin cannot be fetched; the other cards are still checked.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.problems import Problem, Severity
from generator.schema.card import HasRepo

if TYPE_CHECKING:
    from generator.knowledge import KnowledgeBase, LoadedCard
    from generator.schema.card import Card

FETCH_TIMEOUT = 120.0
"""Seconds one shallow fetch may take before the pin is reported as not proven."""


@dataclass(frozen=True)
class PinResult:
    """What fetching one (url, ref) pair said: None when the commit was fetched, else git's reason."""

    url: str
    ref: str
    error: str | None


def fetch_pin(url: str, ref: str, workdir: Path, timeout: float = FETCH_TIMEOUT) -> PinResult:
    """Shallow-fetch `ref` (a full commit, or a tag) from `url` into the bare repository `workdir`."""
    refspec = ref if _is_sha(ref) else f"refs/tags/{ref}"
    # No prompt for credentials (a missing repository answers 401 on some forges), no hooks, no tags.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
    cmd = ["git", "-C", str(workdir), "fetch", "--depth", "1", "--no-tags", "--quiet", "--", url, refspec]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return PinResult(url, ref, f"no answer within {timeout:.0f} s")
    except OSError as exc:  # git itself is missing
        return PinResult(url, ref, f"cannot run git: {exc}")
    if done.returncode != 0:
        return PinResult(url, ref, _reason(done.stderr) or f"git fetch exited {done.returncode}")
    if _is_sha(ref):
        # A forge answers a fetch of an unknown sha with an error, but make sure of what arrived.
        got = subprocess.run(
            ["git", "-C", str(workdir), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        if got.returncode != 0 or got.stdout.strip() != ref:
            return PinResult(url, ref, "the fetch succeeded but did not bring this commit")
    return PinResult(url, ref, None)


def check_pins(kb: KnowledgeBase, cards: Sequence[LoadedCard[Card]] | None = None) -> list[Problem]:
    """One error per card whose pinned commit (or tag) cannot be fetched from its repository's URL."""
    selected = list(cards) if cards is not None else list(kb.all())
    pinned = [c for c in selected if isinstance(c.card, HasRepo)]
    results: dict[tuple[str, str], PinResult] = {}
    with tempfile.TemporaryDirectory(prefix="kb-pins-") as tmp:
        workdir = Path(tmp) / "probe.git"
        subprocess.run(["git", "init", "--quiet", "--bare", str(workdir)], check=True, capture_output=True)
        problems = []
        for loaded in pinned:
            repo = loaded.card.repo  # type: ignore[attr-defined]  # HasRepo, checked above
            ref, field = (repo.commit, "commit") if repo.commit else (repo.tag, "tag")
            key = (repo.url, ref)
            if key not in results:  # cards sharing a repository and pin are fetched once
                results[key] = fetch_pin(repo.url, ref, workdir)
            error = results[key].error
            if error is None:
                continue
            line, col = loaded.doc.locate(("repo", field))
            what = "commit" if field == "commit" else "tag"
            problems.append(
                Problem(
                    loaded.rel,
                    f"{loaded.id}: the pinned {what} {ref} cannot be fetched from {repo.url} ({error})",
                    Severity.ERROR,
                    f"repo.{field}",
                    line,
                    col,
                    f"pin a {what} that exists upstream: `git ls-remote {repo.url}` lists its branches "
                    "and tags, `git rev-parse <tag>^{commit}` in a clone gives the full commit",
                )
            )
    return problems


def _is_sha(ref: str) -> bool:
    return len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)


def _reason(stderr: str) -> str:
    """git's own reason, e.g. `remote error: upload-pack: not our ref <sha>`, on one line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith("hint:")]
    fatal = [ln.removeprefix("fatal: ") for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (fatal or lines or [""])[-1]
