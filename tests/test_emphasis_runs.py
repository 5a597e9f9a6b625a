"""Touching emphasis runs become one run in Markdown, never ``**a****b**``."""

from __future__ import annotations

import pytest

from newscrawl.html import fragment
from newscrawl.markdown import to_markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>而且<strong>蜂农</strong><strong>常常</strong>无法</p>", "而且**蜂农常常**无法"),
        ("<p><b>甲</b><strong>乙</strong><b>丙</b>。</p>", "**甲乙丙**。"),
        ("<p><em>不受</em><i>天气</i>影响</p>", "*不受天气*影响"),
        ("<p><strong>a<a href='https://example.org/'>l</a></strong><strong>b</strong>c</p>",
         "**a[l](https://example.org/)b**c"),
        ("<p><strong>x</strong> <strong>y</strong></p>", "**x** **y**"),  # apart: two runs
    ],
)
def test_touching_runs_merge(html, markdown):
    assert to_markdown(fragment(html)) == markdown
    assert "****" not in to_markdown(fragment(html))
