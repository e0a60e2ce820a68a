"""Code in the PDFs is cheaper for WeasyPrint (fewer boxes, fewer style rules) and looks the same: the
page a code block prints on is compared, as pixels, with the same code as Pygments itself marks it up
with the whole colour scheme."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from generator.pdf.context import PYGMENTS_STYLE, highlight, pygments_css
from generator.pdf.document import finish_html
from tests.factory import REPO_ROOT

SOURCES = {
    "python": (
        "from transformers import AutoModel, AutoTokenizer  # the hub's classes\n"
        "import torch\n\n"
        "def embed(texts: list[str], ckpt: str = 'external_repos/x') -> torch.Tensor:\n"
        '    """Mean-pooled hidden states."""\n'
        "    tok = AutoTokenizer.from_pretrained(ckpt, local_files_only=True)\n"
        "    with torch.no_grad():\n"
        "        out = model(**tok(texts, return_tensors='pt')).last_hidden_state\n"
        "    return (out * 2 + 1e-8).mean(dim=1)  # [batch, hidden]\n"
    ),
    "bibtex": "@article{schiff2024caduceus,\n  title = {Caduceus},\n  year = {2024},\n}\n",
}


def _pygments_own(source: str, language: str) -> str:
    """The markup the product used before: one span per token as Pygments gives it."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    formatter = HtmlFormatter(
        linenos="inline", cssclass="code", style=PYGMENTS_STYLE, wrapcode=True, linespans="ln"
    )
    html = pyg_highlight(source, get_lexer_by_name(language, stripnl=False, ensurenl=True), formatter)
    return re.sub(r'<span id="ln-\d+">', '<span class="code-line">', html)


def _document(code: str, css: str) -> str:
    print_css = (REPO_ROOT / "templates" / "pdf" / "print.css").read_text(encoding="utf-8")
    return f"<html><head><style>{print_css}</style><style>{css}</style></head><body>{code}</body></html>"


def _pixels(html: str, folder: Path) -> Image.Image:
    from weasyprint import HTML

    pdf = folder / "code.pdf"
    pdf.write_bytes(HTML(string=html).write_pdf())
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(folder / "page")], check=True
    )
    return Image.open(folder / "page.png").convert("L")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("language", sorted(SOURCES))
def test_code_prints_as_pygments_own_markup_does(language: str, tmp_path: Path) -> None:
    source = SOURCES[language]
    ours, theirs = str(highlight(source, language)), _pygments_own(source, language)
    # Fewer boxes for WeasyPrint: about half the spans and stretches of text between tags.
    pieces = re.compile(r"<span|>[^<]+<")
    assert len(pieces.findall(ours)) < 0.75 * len(pieces.findall(theirs)), ours
    # The same text.
    assert re.sub(r"<[^>]+>", "", ours) == re.sub(r"<[^>]+>", "", theirs)
    # Only the rules of the classes used, in the document the product makes.
    finished, _ = finish_html(
        _document(ours, "").replace("<style></style>", '<style id="code-style"></style>'), "x"
    )
    rules = re.findall(r"\.code \.([\w-]+) \{", finished)
    assert rules and set(rules) <= set(re.findall(r'class="([\w-]+)"', ours)), rules
    assert len(rules) < len(re.findall(r"\.code \.([\w-]+) \{", pygments_css()))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got = _pixels(finished, tmp_path / "a")
    want = _pixels(_document(theirs, pygments_css()), tmp_path / "b")
    assert got.size == want.size
    # The same pixels, but for anti-aliasing where a glyph after a merged run lands a fraction of a
    # pixel away: no pixel differs by much, and very few differ at all (a glyph moved or recoloured
    # would change hundreds by up to 255).
    diff = ImageChops.difference(got, want)
    histogram = diff.histogram()
    changed = sum(histogram[1:])
    worst = max((level for level, count in enumerate(histogram) if count), default=0)
    assert worst <= 96 and changed <= 0.0005 * got.size[0] * got.size[1], (worst, changed)
