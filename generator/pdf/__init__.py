"""PDF code walkthroughs: validated cards -> print template (Jinja + CSS) -> WeasyPrint -> PDF.

Public API (the `kb pdf` command, `kb build` and the MkDocs plugin call it):

- `build_pdfs(project, kb, ids=None, *, facts=None, jobs=0, force=False, progress=True) -> PdfRun`
- `pdf_path(project, card_id)`: where a card's PDF is written
- `printable_kinds(project)`: card kinds with a `templates/pdf/<kind>.html.j2`

WeasyPrint is imported only when a PDF is actually rendered.
"""

from __future__ import annotations

from generator.pdf.build import PdfRun, build_pdfs, pdf_path, printable_kinds

__all__ = ["PdfRun", "build_pdfs", "pdf_path", "printable_kinds"]
