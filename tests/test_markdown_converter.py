"""The Markdown converter walks lxml's tree by markdownify's rules: same output, no second parser.

``newscrawl.markdown`` used to hand the sanitised body to BeautifulSoup and markdownify; it
now walks an lxml tree itself (issue 10: the re-parse was a quarter of the per-article cost).
markdownify stays the oracle here (a test dependency): on the sanitised body of every
fixture page and demo-mirror article, and on thousands of seeded random trees of every
allowed tag, with blank text, newlines, tabs and Markdown-special characters in every place,
the converter's Markdown must equal markdownify's to the byte.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markdownify import ATX, MarkdownConverter
from scrapy.http import HtmlResponse

import newscrawl.markdown as md
from newscrawl.html import FIGURE_CLASS
from newscrawl.sites import ParseError, get_site
from tests.fixtures.regenerate import PAGES
from tests.mirror.server import Mirror
from tests.test_fixtures import expected

MIRROR = Path(__file__).resolve().parent / "mirror"


class Oracle(MarkdownConverter):
    """markdownify with the project's three rules (escaping, figures, links, images)."""

    def escape(self, text, parent_tags):
        return md.escape_text(text.replace("\n", " "))

    def convert_figure(self, el, text, parent_tags):
        if el.get("class") == FIGURE_CLASS:
            out = md.figure_markdown(el.get("data-src"), el.get("data-caption"), el.get("data-credit"))
            return f"\n\n{out}\n\n" if out else ""
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_a(self, el, text, parent_tags):
        prefix, suffix = (" " if text[:1] == " " else ""), (" " if text[-1:] == " " else "")
        return f"{prefix}{md.link_markdown(text.strip(), el.get('href'))}{suffix}"

    def convert_img(self, el, text, parent_tags):
        if "_inline" in parent_tags:
            return md.escape_text(el.get("alt") or "")
        return md.image_markdown(el.get("src") or "", el.get("alt"))


ORACLE = Oracle(heading_style=ATX, bullets="-", strip=["iframe"], escape_misc=False)


def oracle(markup: str) -> str:
    return ORACLE.convert_soup(BeautifulSoup(markup, "lxml", multi_valued_attributes=None))


def sanitised_bodies() -> list[tuple[str, str]]:
    """(page, sanitised body markup) for every fixture page and mirror article the sites parse."""
    bodies: list[tuple[str, str]] = []
    original = md.sanitize_html
    pages = [(p, p.relative_to(PAGES).parts[0], expected(p)["fetched_url"])
             for p in sorted(PAGES.glob("*/*/*.html"))]
    for name in ("dw", "epochtimes", "epochtimes-day2"):
        routes = Mirror([MIRROR / name]).routes.items()
        pages += [(directory / route["file"], "dw" if name == "dw" else "epochtimes", url)
                  for url, (directory, route) in sorted(routes)
                  if route.get("file", "").startswith("pages/") and "/robots" not in url]
    for page, site, url in pages:
        seen: list[str] = []

        def capture(markup: str, _seen=seen) -> str:
            _seen.append(original(markup))
            return _seen[-1]

        md.sanitize_html = capture
        try:
            get_site(site).parse(HtmlResponse(url=url, body=page.read_bytes()))
        except ParseError:
            pass
        finally:
            md.sanitize_html = original
        bodies += [(f"{site}/{page.name}", markup) for markup in seen]
    return bodies


def test_every_fixture_and_mirror_body_converts_as_markdownify_does():
    bodies = sanitised_bodies()
    assert len(bodies) >= 60, len(bodies)  # the fixtures and the mirror really were parsed
    for name, markup in bodies:
        assert md.sanitized_markdown(markup).strip("\n") == oracle(markup).strip("\n"), name


TEXTS = ["", " ", "  ", "\n", " \n ", "\t", "\xa0", "文字", "a b", " lead", "trail ", "x\ny",
         "1. one", "- dash", "# hash", "*star*", "_u_", "[x](y)", "<tag>", "&amp;", "{{ liquid }}",
         "a  \t b", "\r\n", "back\\slash", "> quote", "|pipe|", "~~", "`tick`", ": def"]
TAGS = sorted(md.ALLOWED_TAGS)


def random_tree(rng: random.Random, depth: int = 0) -> str:
    """Random HTML of the allowed tags (any nesting, even where HTML forbids it)."""
    parts = []
    for _ in range(rng.randint(0, 4 if depth < 4 else 1)):
        roll = rng.random()
        if roll < 0.4 or depth >= 5:
            parts.append(rng.choice(TEXTS).replace("&", "&amp;").replace("<", "&lt;"))
        elif roll < 0.5:
            caption = rng.choice(["", "图片说明", "a * b", " "])
            attrs = f' data-caption="{caption}"' if caption else ""
            src = f"https://img.example/{rng.randint(1, 9)}.jpg"
            parts.append(f'<figure class="{FIGURE_CLASS}" data-src="{src}"{attrs} '
                         f'data-credit="{rng.choice(["", "摄影"])}"></figure>')
        elif roll < 0.55:
            parts.append(f'<img src="https://img.example/x.png" alt="{rng.choice(TEXTS[:10])}">')
        elif roll < 0.6:
            parts.append(rng.choice(["<br>", "<hr>"]))
        else:
            tag = rng.choice(TAGS)
            href = ' href="https://example.com/a"' if tag == "a" and rng.random() < 0.8 else ""
            parts.append(f"<{tag}{href}>{random_tree(rng, depth + 1)}</{tag}>")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(4))
def test_random_trees_convert_as_markdownify_does(seed):
    rng = random.Random(seed)
    for case in range(500):
        markup = md.sanitize_html(random_tree(rng))
        assert md.sanitized_markdown(markup).strip("\n") == oracle(markup).strip("\n"), (seed, case, markup)


def test_nothing_but_blank_markup_is_empty():
    assert md.sanitized_markdown("") == md.sanitized_markdown(" \n ") == ""
    assert md.to_markdown(md.lxml.html.fromstring("<div> </div>")) == ""
