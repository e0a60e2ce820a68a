"""`FastLinks` converts Markdown exactly as Python-Markdown does, and a block of many links in linear
time (the speed is measured in benchmarks/, not here)."""

from __future__ import annotations

import random

import markdown
from markdown.inlinepatterns import LinkInlineProcessor

from generator.render.fastlinks import FastLinks, _get_text


def test_the_closing_bracket_found_is_markdowns_for_any_brackets() -> None:
    rng = random.Random(7)
    md = markdown.Markdown()
    processor = md.inlinePatterns["link"]
    assert isinstance(processor, LinkInlineProcessor)
    for _ in range(3000):
        data = "".join(rng.choice("[]ab(") for _ in range(rng.randint(1, 40)))
        for index in range(len(data) + 1):
            want = LinkInlineProcessor.getText(processor, data, index)
            assert _get_text(processor, data, index) == want, (data, index)


def test_pages_of_links_convert_to_the_same_html() -> None:
    rng = random.Random(11)
    words = ["[a](x.md)", "[b [c]](y.md#z)", "![i](p.png)", "[r][ref]", "[", "]", "text", "[[n]](q)", "|"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60))) + "\n\n[ref]: https://e.org\n"
        plain = markdown.markdown(text, extensions=["tables"])
        fast = markdown.markdown(text, extensions=["tables", FastLinks()])
        assert fast == plain, text


def test_a_cell_of_hundreds_of_links_keeps_every_link() -> None:
    cell = ", ".join(f"[Model {i}](../models/m{i}.md)" for i in range(600))
    html = markdown.markdown(f"| Models |\n| --- |\n| {cell} |\n", extensions=["tables", FastLinks()])
    assert html.count('<a href="../models/m') == 600
