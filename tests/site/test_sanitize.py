"""The sanitizer's allowlists keep exactly what the templates and Markdown extensions make: the shipped
site's pages and print documents are the same with and without it; hostile markup does not survive."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import html

from generator.knowledge import load_knowledge_base
from generator.pdf.build import print_jobs
from generator.pdf.context import card_context
from generator.pdf.document import finish_html, renderer_for
from generator.render.sanitize import clean_page, removed
from generator.settings import Project
from tests.factory import REPO_ROOT, new_project
from tests.site.conftest import mkdocs_cli

EVERY_EXTENSION = """
# Heading {: #custom .kb-x }

| left | centre | right |
| :--- | :---: | ---: |
| `a` | **b** | [c](../other.md#x "title") |

!!! note "A note"
    Body with *emphasis*.

??? tip "Details"
    Hidden.

=== "One"
    First tab.

=== "Two"
    Second tab.

```python linenums="3" title="x.py"
def f(x):
    return x  # comment
```

Inline `#!python print(1)` and [Download PDF](../pdf/x.pdf){ .md-button .md-button--primary }.

1. one
2. two

> quoted

---
"""


def test_every_markdown_extension_of_mkdocs_yml_survives_the_page_sanitizer() -> None:
    import markdown
    from mkdocs.config import load_config

    config = load_config(str(REPO_ROOT / "mkdocs.yml"))
    md = markdown.Markdown(extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"])
    page = md.convert(EVERY_EXTENSION)
    for needle in (
        'class="tabbed-set',
        "<details",
        'class="admonition note"',
        'class="headerlink"',
        'class="linenos"',
        "text-align: center",
        'class="md-button',
    ):
        assert needle in page, needle  # the sample really uses each construct
    assert removed(page, clean_page(page)) == []


@pytest.mark.slow
def test_shipped_site_pages_are_the_same_with_and_without_the_sanitizer(tmp_path: Path) -> None:
    root = new_project(tmp_path, with_shipped_kb=True)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("\n  - kb\n", "\n  - kb:\n      pdf: false\n"))
    result = mkdocs_cli(root, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the sanitizer removed" not in result.stderr
    assert (root / "site" / "models" / "brainlm" / "index.html").is_file()


@pytest.mark.slow
def test_shipped_print_documents_are_the_same_with_and_without_the_sanitizer(tmp_path: Path) -> None:
    root = new_project(tmp_path, with_shipped_kb=True)
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    jobs = print_jobs(project, kb)
    assert len(jobs) == len(kb.models) > 0
    for job in jobs:
        raw = renderer_for(job.templates).render(job.template, **card_context(job))
        before, _ = finish_html(raw, job.rel, sanitize=False)
        after, _ = finish_html(raw, job.rel)
        assert removed(_body(before), _body(after)) == [], job.rel


def test_hostile_markup_does_not_survive_the_page_sanitizer() -> None:
    hostile = (
        '<p onclick="x" style="color:red">a<script>alert(1)</script><img src=x onerror=y>'
        '<a href="javascript:alert(1)">j</a><a href="data:text/html,x">d</a>'
        '<iframe src="//e"></iframe>'
        "<svg onload=x></svg><object data=x></object><form><input type=text></form></p>"
    )
    cleaned = clean_page(hostile)
    assert cleaned == "<p>a<a>j</a><a>d</a></p><p></p>"  # <form> ends the paragraph, as in a browser


def _body(document: str) -> str:
    body = html.document_fromstring(document).body
    return (body.text or "") + "".join(html.tostring(c, encoding="unicode") for c in body)


@pytest.mark.parametrize(
    ("html", "named"),
    [
        ('<p onclick="alert(1)">x</p>', "p[onclick=alert(1)]"),
        ("<p>x<script>alert(1)</script></p>", "script"),
        ('<p style="color: red; text-align: left">x</p>', "p[style=color:red;text-align:left]"),
        ("<!-- hidden --><p>x</p>", "comment"),
        ('<a href="javascript:alert(1)">x</a>', "a[href=javascript:alert(1)]"),
        ('<iframe src="https://example.org"></iframe><p>y</p>', "iframe"),
        ("<input type=text value=1>", "input[value=1]"),
        ("<math><mi>x</mi></math>", "math"),
        ("<svg/onload=alert(1)><p>x</p>", "svg"),
        ("<img/src=x/onerror=alert(1)>", "img"),
    ],
)
def test_what_the_page_sanitizer_takes_away_is_named(html: str, named: str) -> None:
    # The log line that says a page was cut names each thing taken (a quick look at the tags as written
    # comes first; it must never hide one).
    assert named in removed(html, clean_page(html))


def test_markup_the_page_sanitizer_only_writes_its_own_way_is_not_reported() -> None:
    html = "<p>x <span class=a>y</span><br /></p>"
    assert clean_page(html) != html
    assert removed(html, clean_page(html)) == []


def test_the_quick_look_at_a_never_closed_tag_takes_no_time() -> None:
    # A start tag that never ends, with many quoted values holding spaces: read one way only (a regular
    # expression that could read each value two ways took minutes here).
    html = "<div><a" + ' b="x y"' * 200 + "</div>"
    started = time.perf_counter()
    removed(html, clean_page(html))
    assert time.perf_counter() - started < 5
