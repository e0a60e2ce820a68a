"""Incremental builds of the site: what changed since the last build is built again, nothing else.

- `state.py`: what the last build made of each page (kept in memory by `mkdocs serve`, in
  `.kb-cache/site-state/` by `kb build`).
- `mkdocs.py`: `Incremental`, which the `kb` plugin drives through MkDocs' events to make a dirty MkDocs
  build give the site a full build gives (titles, navigation, tags, search index, removed pages).
- `serve.py`: `mkdocs serve` rebuilds through it, and skips the rebuild its own page writes would start.

Which Markdown pages are rendered again is `generator.render.site`'s business (`PageKeys`); which cards
are read again, `generator.knowledge.CardCache`'s.
"""
