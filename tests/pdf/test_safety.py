"""Card text is untrusted: nothing outside the templates and kb/assets/ is read or fetched."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.factory import make_card, new_project, write_card
from tests.pdf.helpers import kb_pdf, pdf_dir, pdf_text

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (the PDF step must make none)."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()


def test_hostile_references_are_not_fetched_and_warned_about(
    tmp_path: Path, server: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, requests = server
    root = new_project(tmp_path)
    secret = tmp_path / "outside.png"
    secret.write_bytes(PNG)
    prose = (
        f"![a](file:///etc/passwd) ![b](../../../outside.png) ![c](http://example.com/x.png) "
        f"![d]({url}/tracker.png) ![e](file://{secret}) [f](file:///etc/passwd)"
    )
    write_card(root, make_card(id="hostile", name="Hostile", walkthrough=[{"title": "Refs", "prose": prose}]))

    assert kb_pdf(root) == 0
    err = capsys.readouterr().err
    pdf = pdf_dir(root) / "hostile.pdf"
    assert pdf.is_file() and len(PdfReader(pdf).pages) > 1
    assert requests == []
    for page in PdfReader(pdf).pages:
        assert not page.images
    assert "root:" not in pdf_text(pdf)
    for ref in ("file:///etc/passwd", f"file://{secret}", "http://example.com/x.png", f"{url}/tracker.png"):
        assert f"warning: kb/model_cards/hostile.yaml: did not fetch {ref}: " in err, ref
    assert "warning: kb/model_cards/hostile.yaml: dropped the link to file:///etc/passwd" in err


def test_images_under_kb_assets_are_embedded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = new_project(tmp_path)
    (root / "kb/assets").mkdir(parents=True)
    (root / "kb/assets/figure.png").write_bytes(PNG)
    (root / "kb/assets/sneaky.png").symlink_to("/etc/passwd")
    prose = "![fig](figure.png) ![s](sneaky.png)"
    write_card(root, make_card(walkthrough=[{"title": "Figure", "prose": prose}]))
    assert kb_pdf(root) == 0
    err = capsys.readouterr().err
    assert "did not fetch figure.png" not in err and "figure.png" not in err
    assert "did not fetch file://" in err and "sneaky.png: the file is outside" in err
    pages = PdfReader(pdf_dir(root) / "tiny-bert.pdf").pages
    assert any(page.images for page in pages)


def test_card_text_is_escaped_not_interpreted(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    write_card(
        root,
        make_card(
            name="Evil <b>bold</b>",
            walkthrough=[{"title": "<i>t</i>", "prose": "<script>alert(1)</script> and <img src=x>"}],
        ),
    )
    assert kb_pdf(root) == 0
    text = pdf_text(pdf_dir(root) / "tiny-bert.pdf")
    assert "Evil <b>bold</b>" in text
    assert "<script>alert(1)</script>" in text and "<img src=x>" in text
