"""Where every file lives, in one place: `Layout`.

One object answers every path question, from the settings (`Project.layout`): a card's file and its
lock file, an upstream clone and its checkpoint folders, a card's PDF and smoke report, the build lock,
and the built site's URL layout (a card's page, its YAML as published, `pdf/<id>.pdf`, relative links).
No other module or template joins these paths: they ask the layout, and a template is handed the
answer (a card's `CardFacts` carries its checkpoint folders, PDF and page as the layout gives them).

Paths on disk are absolute `Path`s; paths in the built site are POSIX strings relative to docs_dir
(pages) or to the site's root (`pdf/<id>.pdf`, `kb/<kind folder>/<id>.yaml`). The plain methods only
join; a folder named by something a pull request or an upstream clone controls (a card's repository
name and checkpoint folder, a clone's tracked symbolic links) is asked for through a `checked_` method,
which resolves it and says why it is refused when it leaves its folder (`generator.paths`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from generator.paths import outside, shown_below

CARD_SUFFIX = ".yaml"
LOCK_SUFFIX = ".lock.yaml"


class Kind(Protocol):
    """What the layout needs of a card kind (`generator.schema.CardKind`): its folder under `kb/`."""

    @property
    def folder(self) -> str: ...


@dataclass(frozen=True)
class Layout:
    """Every path of one project, from its resolved folders (`Project.layout` builds it)."""

    root: Path
    kb_dir: Path
    artifacts_dir: Path
    external_repos_dir: Path

    CHECKPOINTS: ClassVar[str] = "checkpoints"
    """A clone's folder of checkpoints: `external_repos/<repo>/checkpoints/`."""
    PDF_FOLDER: ClassVar[str] = "pdf"
    """Where PDFs live in the built site: `site/pdf/<id>.pdf`."""
    CARD_FOLDER: ClassVar[str] = "kb"
    """Where the cards' YAML is published in the built site: `site/kb/<kind folder>/<id>.yaml`."""
    PAGE_FOLDERS: ClassVar[dict[str, str]] = {"model_cards": "models"}
    """Page folders that differ from the card folder with `_cards` removed."""
    CATALOG_PAGES: ClassVar[dict[str, str]] = {
        "catalog": "catalog/index.md",
        "comparison": "catalog/comparison.md",
        "selection": "catalog/selection.md",
        "tags": "catalog/tags.md",
        "downloads": "catalog/downloads.md",
        "card_format": "reference/card-format.md",
    }
    """Catalog page name -> its path under docs_dir; the template is `pages/catalog/<name>.md.j2`."""
    CACHE_FOLDER: ClassVar[str] = ".kb-cache"
    """Under the project root: the build lock, the build stamp, the link-check cache, the smoke jobs."""

    # -- cards and their side files -------------------------------------------------------------------

    def kind_dir(self, kind: Kind) -> Path:
        """`kb/<kind folder>`: where a kind's cards live."""
        return self.kb_dir / kind.folder

    def card_file(self, kind: Kind, card_id: str) -> Path:
        """`kb/<kind folder>/<id>.yaml`."""
        return self.card_in(self.kb_dir, kind, card_id)

    @staticmethod
    def card_in(kb_dir: Path, kind: Kind, card_id: str) -> Path:
        """A card's file in a knowledge-base folder (`kb import -o DIR` writes into another one)."""
        return kb_dir / kind.folder / f"{card_id}{CARD_SUFFIX}"

    @staticmethod
    def lock_file(card_file: Path) -> Path:
        """The lock file beside a card: `kb/model_cards/<id>.yaml` -> `kb/model_cards/<id>.lock.yaml`."""
        return card_file.with_name(card_file.stem + LOCK_SUFFIX)

    @staticmethod
    def is_lock_file(path: Path | str) -> bool:
        return str(path).endswith(LOCK_SUFFIX)

    @staticmethod
    def card_of_lock(lock_file: str) -> str:
        """The card a lock file belongs to (`.../<id>.lock.yaml` -> `.../<id>.yaml`), as a string."""
        return lock_file.removesuffix(LOCK_SUFFIX) + CARD_SUFFIX

    @staticmethod
    def golden_file(card_file: Path, card_id: str) -> Path:
        """The smoke test's golden reference beside the card (not `.yaml`: loading would take it for a
        card)."""
        return card_file.with_name(f"{card_id}.smoke-golden.npz")

    # -- upstream code and checkpoints ----------------------------------------------------------------

    def repo_dir(self, repo_name: str) -> Path:
        """`external_repos/<repo.name>`: the upstream clone at the card's pin."""
        return self.external_repos_dir / repo_name

    def checkpoints_dir(self, repo_name: str) -> Path:
        """`external_repos/<repo.name>/checkpoints`."""
        return self.repo_dir(repo_name) / self.CHECKPOINTS

    def checkpoint_dir(self, repo_name: str, folder: str) -> Path:
        """`external_repos/<repo.name>/checkpoints/<folder>` (a `checkpoints[].path` or
        `smoke_test.checkpoint`), not resolved."""
        return self.checkpoints_dir(repo_name) / folder

    def checked_repo_dir(self, repo_name: str) -> tuple[Path, str | None]:
        """`repo_dir` and why it is refused (None when it is not): the clone folder must lie inside
        external_repos/ itself (a committed symbolic link could point it anywhere)."""
        clone = self.repo_dir(repo_name)
        return clone, outside(clone, self.external_repos_dir, self.root)

    def checked_checkpoint_dir(self, repo_name: str, folder: str) -> tuple[Path, str | None]:
        """`checkpoint_dir` (not resolved) and why it is refused (None when it is not).

        An upstream repository can track `checkpoints` (or anything below it) as a symbolic link: the
        folder must resolve inside `checkpoints/`, which must resolve inside the clone, which must lie
        inside external_repos/."""
        clone, why = self.checked_repo_dir(repo_name)
        base, path = self.checkpoints_dir(repo_name), self.checkpoint_dir(repo_name, folder)
        if why is None:
            why = outside(base, clone, self.root)
        if why is None:
            why = outside(path, base, self.root)
            if why is None and path.resolve() == base.resolve():
                shown = shown_below(base, self.root)
                why = f"{shown}/{folder} is {shown}/ itself: name a folder inside it"
        return path, why

    # -- artifacts and caches -------------------------------------------------------------------------

    @property
    def pdf_dir(self) -> Path:
        return self.artifacts_dir / "pdf" / "code_walkthroughs"

    def pdf_file(self, card_id: str) -> Path:
        """`artifacts/pdf/code_walkthroughs/<id>.pdf`."""
        return self.pdf_dir / self.pdf_name(card_id)

    @staticmethod
    def pdf_name(card_id: str) -> str:
        return f"{card_id}.pdf"

    @property
    def smoke_dir(self) -> Path:
        return self.artifacts_dir / "smoke"

    def smoke_report(self, card_id: str) -> Path:
        """`artifacts/smoke/<id>.json`."""
        return self.smoke_report_in(self.smoke_dir, card_id)

    @staticmethod
    def smoke_report_in(smoke_dir: Path, card_id: str) -> Path:
        """A card's smoke report in a reports folder (`load_knowledge_base` is handed the folder)."""
        return smoke_dir / f"{card_id}.json"

    @property
    def cache_dir(self) -> Path:
        return self.root / self.CACHE_FOLDER

    @property
    def site_state_file(self) -> Path:
        """What an incremental `kb build` knows of the last build (`generator.incremental.state`)."""
        return self.cache_dir / "site-state" / "state.json"

    def site_state_blob(self, digest: str) -> Path:
        """One page's rendered content, kept for the next incremental build, named by its hash."""
        return self.cache_dir / "site-state" / "pages" / f"{digest}.json"

    @property
    def serve_trigger_dir(self) -> Path:
        """Watched by `mkdocs serve`: a file written here asks for the next step of a rebuild."""
        return self.cache_dir / "serve"

    # -- the built site (POSIX paths) -----------------------------------------------------------------

    @classmethod
    def page_folder(cls, kind: Kind) -> str:
        """Folder of a kind's pages under docs_dir: `model_cards` -> `models`, `sae_cards` -> `sae`,
        `datasets` -> `datasets`."""
        return cls.PAGE_FOLDERS.get(kind.folder, kind.folder.removesuffix("_cards"))

    @classmethod
    def page_path(cls, kind: Kind, card_id: str) -> str:
        """A card's page, relative to docs_dir."""
        return f"{cls.page_folder(kind)}/{card_id}.md"

    @classmethod
    def index_page(cls, kind: Kind) -> str:
        """A kind's index page, relative to docs_dir."""
        return f"{cls.page_folder(kind)}/index.md"

    @classmethod
    def card_file_path(cls, kind: Kind, card_id: str) -> str:
        """A card's YAML as published with the site, relative to the site root."""
        return f"{cls.CARD_FOLDER}/{kind.folder}/{card_id}{CARD_SUFFIX}"

    @classmethod
    def site_pdf_path(cls, card_id: str) -> str:
        """A card's PDF in the built site, relative to its root."""
        return f"{cls.PDF_FOLDER}/{cls.pdf_name(card_id)}"

    @staticmethod
    def built_page(site_dir: Path, page: str) -> Path:
        """The HTML file MkDocs writes for a page of docs_dir (directory URLs, or `page.html` without)."""
        stem = page.removesuffix(".md")
        built = site_dir / stem / "index.html"
        return built if built.exists() else site_dir / f"{stem}.html"

    @staticmethod
    def relative(from_page: str, to_path: str) -> str:
        """Relative link from one docs_dir file to another, as MkDocs resolves Markdown links."""
        return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")
