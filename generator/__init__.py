"""Model-card knowledge base: YAML cards in, site pages, PDF walkthroughs, smoke tests and checks out."""

from __future__ import annotations

__version__ = "0.1.0"
