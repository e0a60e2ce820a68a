"""The settings that decide what is trusted, read from where a pull request cannot change them.

mkdocs.yml is part of the tree, so a pull request can edit it like any card. Two settings carry trust:
`smoke_allowed_signers` (whose signatures make a smoke report count for `kb build --require-smoke`)
and `repo_mirrors` (where `kb repos sync` clones a card's repository from instead of its forge). They
are read:

1. from the working tree, as every other setting, when nothing below is set (a maintainer's own
   checkout of the default branch is trusted);
2. from a git revision, with `KB_TRUSTED_REF=<rev>` (a pull request's CI sets the base branch, e.g.
   `origin/main`): `mkdocs.yml` and the allowed-signers file it names are read with `git show
   <rev>:<file>`, and the working tree's versions of both are ignored;
3. the allowed signers from a file outside the tree, with `KB_ALLOWED_SIGNERS=<file>` (it wins over
   both: a CI job can write it from a repository variable).

A report signed by a key that a pull request added is therefore not allowed in that pull request's
own checks.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.exceptions import ConfigError
from generator.settings import CONFIG_FILE, Project, Settings, settings_from_config
from generator.signing import AllowedSigners, parse_allowed_signers

TRUSTED_REF_ENV = "KB_TRUSTED_REF"
ALLOWED_SIGNERS_ENV = "KB_ALLOWED_SIGNERS"
MAX_SIGNERS_BYTES = 256 * 1024


@dataclass(frozen=True)
class Trusted:
    """The trust-bearing settings of one command, and where they came from."""

    mirrors: dict[str, str]
    """`repo_mirrors`: forge URL prefix -> where to clone from instead."""
    signers: AllowedSigners
    settings_source: str
    """`mkdocs.yml` (the working tree) or `<rev>:mkdocs.yml`."""


def trusted(project: Project) -> Trusted:
    """The trusted settings of `project` (see the module docstring for where each comes from)."""
    ref = os.environ.get(TRUSTED_REF_ENV, "").strip()
    settings, source = (project.settings, CONFIG_FILE) if not ref else (_settings_at(project, ref), "")
    source = source or f"{ref}:{CONFIG_FILE}"
    return Trusted(dict(settings.repo_mirrors), _signers(project, settings, ref), source)


def _settings_at(project: Project, ref: str) -> Settings:
    from mkdocs.utils.yaml import get_yaml_loader
    from yaml import YAMLError
    from yaml import load as yaml_load

    text = _git_show(project, ref, CONFIG_FILE)
    where = f"{ref}:{CONFIG_FILE}"
    try:
        data: Any = yaml_load(text, Loader=get_yaml_loader())  # MkDocs' loader: `!ENV` means the same
    except YAMLError as exc:
        raise ConfigError(f"{where} ({TRUSTED_REF_ENV}): not a MkDocs configuration: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where} ({TRUSTED_REF_ENV}): the MkDocs configuration must be a mapping")
    if "INHERIT" in data:  # it would read the inherited file from the working tree
        raise ConfigError(f"{where} ({TRUSTED_REF_ENV}): INHERIT is not supported for the trusted settings")
    return settings_from_config(data, where)


def _signers(project: Project, settings: Settings, ref: str) -> AllowedSigners:
    """The allowed signers: `KB_ALLOWED_SIGNERS`, else the file `smoke_allowed_signers` names (at `ref`
    when given), else none (no report counts as verified)."""
    outside_tree = os.environ.get(ALLOWED_SIGNERS_ENV, "").strip()
    if outside_tree:
        source = f"{ALLOWED_SIGNERS_ENV}={outside_tree}"
        return parse_allowed_signers(_read_file(Path(outside_tree).expanduser(), source), source)
    name = settings.smoke_allowed_signers
    if not name:
        return AllowedSigners("")
    if ref and not Path(name).is_absolute():
        source = f"{ref}:{name}"
        return parse_allowed_signers(_git_show(project, ref, name), source)
    return parse_allowed_signers(_read_file(project.path(name), name), name)


def _read_file(path: Path, source: str) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SIGNERS_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the allowed signers: {exc.strerror}") from exc
    if len(data) > MAX_SIGNERS_BYTES:
        raise ConfigError(f"{source}: the allowed signers file is larger than 256 KiB")
    return data.decode("utf-8", errors="replace")


def _git_show(project: Project, ref: str, name: str) -> str:
    """`git show <ref>:./<name>` in the project (a revision, never the working tree)."""
    if ref.startswith("-") or any(c.isspace() for c in ref):
        raise ConfigError(f"{TRUSTED_REF_ENV}={ref}: not a git revision")
    try:
        done = subprocess.run(
            ["git", "-C", str(project.root), "show", f"{ref}:./{name}"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{TRUSTED_REF_ENV}={ref}: cannot run git to read {name}: {exc}") from exc
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["git failed"]
        raise ConfigError(
            f"{TRUSTED_REF_ENV}={ref}: cannot read {name} at that revision ({why[0]}); fetch the base "
            "branch first (actions/checkout with fetch-depth: 0)"
        )
    return done.stdout.decode("utf-8", errors="replace")
