"""PDF code walkthroughs: validated cards -> print template (Jinja + CSS) -> WeasyPrint -> PDF.

Public API (the `kb pdf` command, `kb build` and the MkDocs plugin call it):

- `build_pdfs(project, kb, ids=None, *, facts=None, jobs=0, force=False, progress=True) -> PdfRun`
- `plan_pdfs(...) -> PdfPlan`: the same, decided without rendering; `.finish()` renders, `.start()`
  renders in worker processes while the caller works on (`Rendering`, `kb build`)
- `printable_kinds(project)`: the card kinds declared `printed` (`generator.schema.CardKind`), and any
  other kind given a print template of its own (`templates/pdf/<kind>.html.j2`)

Where a card's PDF is written: `project.layout.pdf_file(card_id)`.

WeasyPrint is imported only when a PDF is actually rendered.
"""

from __future__ import annotations

from generator.pdf.build import PdfPlan, PdfRun, Rendering, build_pdfs, plan_pdfs, printable_kinds

__all__ = ["PdfPlan", "PdfRun", "Rendering", "build_pdfs", "plan_pdfs", "printable_kinds"]
