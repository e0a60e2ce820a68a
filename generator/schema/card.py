"""What every card kind is: the `Card` base class, and the mixins that say what a kind has.

A stage asks for a feature with `isinstance` (`isinstance(card, HasRepo)`), never by probing for an
attribute, so a new kind gets every feature it declares by listing the mixin. The mixins hold no
fields of their own (each kind declares its fields, with the docstrings that become the JSON Schema's
descriptions, in its own order); they tell the type checker which fields a kind has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from generator.schema.common import Markdown, Node, Slug

if TYPE_CHECKING:
    from generator.schema.common import Citation
    from generator.schema.model_card import Integration, Repo
    from generator.schema.smoke import SmokeTest
    from generator.schema.walkthrough import WalkthroughStep


class Card(Node):
    """Base of every card kind: the fields they all share."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Name."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""


class HasLicense:
    """A kind that states a license (model, dataset, SAE and fine-tuned cards)."""

    __slots__ = ()
    if TYPE_CHECKING:
        license: str | None

    def license_fields(self) -> list[tuple[str, str]]:
        """(field, SPDX expression) of every license the card states, code first."""
        return [("license", self.license)] if self.license else []


class HasRepo:
    """A kind with an upstream repository pinned at a commit (cloned under `external_repos/`)."""

    __slots__ = ()
    if TYPE_CHECKING:
        repo: Repo


class HasWalkthrough:
    """A kind with walkthrough steps, which may cite code at its repository's pin."""

    __slots__ = ()
    if TYPE_CHECKING:
        walkthrough: list[WalkthroughStep]


class HasSmokeTest:
    """A kind whose checkpoint `kb smoke` verifies (the section itself may be absent on a card).

    The checkpoint lives in the kind's upstream clone and is projected by its projector, so such a kind
    also has `repo` and `integration` (and the smoke test reads the model card's architecture,
    tokenization and pooling: today only `ModelCard` has it)."""

    __slots__ = ()
    if TYPE_CHECKING:
        smoke_test: SmokeTest | None
        repo: Repo
        integration: Integration


class HasModality:
    """A kind about one modality (DNA, fMRI...): tagged and grouped by it."""

    __slots__ = ()
    if TYPE_CHECKING:
        modality: str


class HasCitations:
    """A kind that lists papers to cite."""

    __slots__ = ()
    if TYPE_CHECKING:
        citations: list[Citation]
