"""Code in the PDFs: a line too long for the page wraps and continues past the line-number gutter."""

from __future__ import annotations

import io

from pypdf import PdfReader

from generator.pdf.context import highlight
from tests.factory import REPO_ROOT

LONG = (
    "model = AutoModel.from_pretrained(ckpt, trust_remote_code=True, local_files_only=True, "
    "revision=None).cuda().eval()\nx = 1\n"
)


def _x_of_each_text(pdf: bytes) -> dict[str, float]:
    seen: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        for word in text.split():
            seen.setdefault(word, tm[4] + cm[4])

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return seen


def test_a_wrapped_code_line_is_indented_past_the_gutter() -> None:
    from weasyprint import CSS, HTML

    css = CSS(string=(REPO_ROOT / "templates" / "pdf" / "print.css").read_text())
    html = f"<html><body style='width: 9cm'>{highlight(LONG, 'python')}</body></html>"
    x = _x_of_each_text(HTML(string=html).write_pdf(stylesheets=[css]))
    first_line = x["model"]
    continued = next(v for k, v in x.items() if k.startswith(("local_files_only", "trust_remote_code")))
    assert abs(continued - first_line) < 2, x  # under the code, not under the line numbers
    assert x["1"] < first_line and x["x"] == first_line
