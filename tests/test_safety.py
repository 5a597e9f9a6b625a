"""Output safe to publish, piece by piece: URLs, text escaping, sanitising, slugs, surrogates.

The whole path (hostile pages → real crawl → posts → real Jekyll) is tested in
``test_safety_corpus.py``; here each guard is tried on the inputs it must stop.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
import yaml

from newscrawl.html import absolute_url, clean_common, fragment, make_figure, safe_url
from newscrawl.items import Article
from newscrawl.markdown import escape_text, markdown_url, to_markdown
from newscrawl.pipelines import normalize_article
from newscrawl.posts import render_post, slugify

BASE = "https://www.dw.com/zh/x/a-1"
HOSTILE_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java&#x09;script:alert(1)",
    "java&Tab;script:alert(1)",
    "javascript&colon;alert(1)",
    "&#106;avascript:alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:image/svg+xml,<svg onload=alert(1)>",
    "file:///etc/passwd",
    "mailto:x@example.org",
    "https:alert(1)",
    "https://",
    "https://[unbalanced/",
]


def unescape_markdown(markdown: str) -> str:
    """What a reader sees of escaped text: backslash escapes and entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_only_http_urls_are_safe(url):
    assert safe_url(url) is None
    assert markdown_url(url) is None
    assert absolute_url(BASE, url) is None


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://www.dw.com/zh/a-1", "https://www.dw.com/zh/a-1"),
        ("HTTP://Example.org/x", "HTTP://Example.org/x"),
        (" https://example.org/x \n", "https://example.org/x"),
        ("//www.dw.com/zh/a-1", "https://www.dw.com/zh/a-1"),
    ],
)
def test_web_urls_are_kept(url, safe):
    assert safe_url(url) == safe


def test_the_remembered_verdicts_are_the_checks_own():
    """safe_url remembers its verdicts (a page's URLs are checked again as they are written
    out): asked again, in any order, it answers as the check itself does."""
    urls = [*HOSTILE_URLS, "https://www.dw.com/zh/a-1", " https://example.org/x \n", "//www.dw.com/zh/a-1"]
    for url in [*urls, *reversed(urls)]:
        assert safe_url(url) == safe_url.__wrapped__(url)
    assert safe_url.cache_info().maxsize == 1024  # bounded


def test_relative_urls_are_joined_and_schemes_are_not():
    assert absolute_url(BASE, "/zh/a-2") == "https://www.dw.com/zh/a-2"
    assert absolute_url(BASE, "a-3") == "https://www.dw.com/zh/x/a-3"
    assert absolute_url(BASE, "#top") is None
    # with a leading space a scheme is still a scheme, not a relative path to join
    assert absolute_url(BASE, "  javascript:alert(1)") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a) [x](javascript:alert(1))",
        'https://example.org/a b(c)"d\'e<f>g{{ site.time }}h|i\\j^k`l',
        "https://example.org/\u202eevil\u200b/\u3000x\x85",
    ],
)
def test_emitted_urls_cannot_break_out(url):
    out = markdown_url(url)
    assert out.startswith("https://example.org/")
    assert not re.search(r"[\s()\[\]<>{}\"'|\\^`]", out)
    assert not any(unicodedata.category(c)[0] in "CZ" for c in out)
    assert f"[x]({out})".count("(") == 1  # the link target cannot end early


HOSTILE_TEXTS = [
    "<img src=x onerror=alert(1)>",
    "<scr<script></script>ipt>alert(1)</scr<script></script>ipt>",
    "[x](javascript:alert(1)) ![y](javascript:alert(2)) <javascript:alert(3)>",
    "[ref]: javascript:alert(1)",
    "{{ site.time }} {% assign x = 1 %}{{ x }} {% raw %} {% endraw %}",
    '{: onmouseover="alert(1)"} {::nomarkdown}<b>{:/}',
    "$$x^2$$ a | b *c* _d_ `e` ~~f~~ \\g &amp; &lt;",
    "# heading",
    "- list",
    "+ list",
    "1. ordered",
    ": definition",
    "=== setext",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_escaped_text_is_the_text_and_nothing_else(text):
    md = escape_text(text)
    assert unescape_markdown(md) == text
    assert "<" not in md and "{" not in md
    # every Markdown special is escaped, and nothing starts a block
    assert not re.search(r"(?<!\\)[\[\]*_`|$~]", md.replace("\\\\", ""))
    assert not re.match(r"\s*([#\-+=:]|\d+[.)])", md)


def test_sanitiser_removes_elements_and_keeps_prose():
    root = fragment(
        "<p>谈论 &lt;style&gt; 和 &lt;iframe src=x&gt; 的段落</p>"
        "<style>p{}</style><script>alert(1)</script><iframe src='https://evil.example/'></iframe>"
        "<p>中间的段落</p><p onclick='alert(2)'>结尾 &lt;/style&gt; &lt;/iframe&gt;</p>"
        "<noscript><p>后备</p></noscript><svg><script>alert(3)</script></svg>"
        "<pre>{{ code }}</pre>"
    )
    md = to_markdown(clean_common(root, BASE))
    assert unescape_markdown(md).split("\n\n") == [
        "谈论 <style> 和 <iframe src=x> 的段落", "中间的段落", "结尾 </style> </iframe>", "{{ code }}"]
    assert "alert" not in md and "后备" not in md


def test_links_and_images_keep_their_text_when_their_url_is_unsafe():
    root = fragment(
        '<p><a href="JavaScript:alert(1)">文字一</a> <a href="//www.dw.com/zh/a-2">文字二</a> '
        '<a href="https://example.org/a b">文字三</a></p>'
        '<p>前<img src="data:image/png;base64,AAAA" alt="x">后</p>'
    )
    root.append(make_figure("vbscript:msgbox(1)", "图片说明", "摄影"))
    root.append(make_figure("https://static.dw.com/image/1_6.jpg) [x](javascript:alert(1))", "说明", None))
    md = to_markdown(clean_common(root, BASE))
    assert md.split("\n\n") == [
        "文字一 [文字二](https://www.dw.com/zh/a-2) [文字三](https://example.org/a%20b)",
        "前后",
        "*图片说明 · 摄影*",
        "![说明](https://static.dw.com/image/1_6.jpg%29%20%5Bx%5D%28javascript:alert%281%29%29)\n*说明*",
    ]


#: bidi controls, zero-width characters, controls, a lone surrogate
INVISIBLE = ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
             "\u200b\u200c\u200d\u2060\ufeff\x00\x1f\x7f\x85\ud800")


@pytest.mark.parametrize("char", list(INVISIBLE))
def test_slugs_have_no_invisible_characters(char):
    slug = slugify(f"标题{char}一{char}", "a-1")
    assert slug.replace("-", "") == "标题一"  # a separator-like control may become "-"
    assert not any(unicodedata.category(c)[0] == "C" or c == "\ufffd" for c in slug)


def make_item(**overrides) -> Article:
    values = dict(
        site="dw", id="a-68200101", url="https://www.dw.com/zh/x/a-68200101",
        title="中美外长通话", published="2023-10-31T14:28:57Z", authors=["安静"], lead="导语",
        body_markdown="正文第一段。", tags=["外交"], lang="zh-Hans", source_name="德国之声",
        images=[{"url": "https://static.dw.com/image/1_6.jpg", "caption": "说明", "credit": None}],
    )
    values.update(overrides)
    return Article(**values)


def test_a_lone_surrogate_anywhere_is_repaired_and_the_post_written(archive):
    item = normalize_article(make_item(
        title="标题\ud800结尾", lead="导语\udfff", authors=["安\ud83d静"], tags=["标签\ud800"],
        body_markdown="正文\ud800。",
        images=[{"url": "https://static.dw.com/image/1_6.jpg", "caption": "说明\ud800", "credit": None}],
        gallery={"title": "图集\ud800", "images": [
            {"url": "https://static.dw.com/image/2_6.jpg", "title": "一\ud800", "caption": "二\udc00",
             "credit": None}]},
    ))
    assert item.title == "标题\ufffd结尾" and item.images[0]["caption"] == "说明\ufffd"
    assert item.gallery["images"][0]["caption"] == "二\ufffd"
    archive.write(item)
    [post] = archive.posts_dir("dw").glob("*.md")
    assert post.name == "2023-10-31-标题结尾.md"
    line = archive.jsonl_path().read_text(encoding="utf-8")
    assert "\\ud800" not in line and "标题\ufffd结尾" in line
    text = post.read_text(encoding="utf-8")
    matter = yaml.safe_load(text[4:text.index("\n---\n", 4)])
    assert (matter["title"], matter["lead"], matter["authors"]) == (item.title, item.lead, item.authors)
    assert "正文\ufffd。" in text and "二\ufffd" in text


def test_normalise_drops_images_whose_url_is_not_http():
    item = normalize_article(make_item(
        images=[{"url": "javascript:alert(1)", "caption": "一", "credit": None},
                {"url": " data:image/png;base64,AAAA", "caption": "二", "credit": None},
                {"url": "/image/3_6.jpg", "caption": "三", "credit": None}],
        gallery={"title": "图集", "images": [
            {"url": "vbscript:msgbox(1)", "title": None, "caption": "四", "credit": None}]},
    ))
    assert item.images == [{"url": "https://www.dw.com/image/3_6.jpg", "caption": "三", "credit": None}]
    assert item.gallery is None


def test_post_title_gallery_and_front_matter_are_inert():
    item = normalize_article(make_item(
        title="<b>{{ site.time }}</b> [x](javascript:alert(1))",
        images=[{"url": "https://static.dw.com/image/1_6.jpg?a=<x> {y}", "caption": None, "credit": None}],
        gallery={"title": "{% raw %}<i>", "images": [
            {"url": "https://static.dw.com/image/2_6.jpg", "title": "**{% endraw %}", "caption": "<img>",
             "credit": "[c](vbscript:x)"}]},
    ))
    text = render_post(item)
    end = text.index("\n---\n", 4)
    matter, body = yaml.safe_load(text[4:end]), text[end + 5:]
    assert matter["title"] == item.title  # front matter holds the exact value
    assert matter["render_with_liquid"] is False
    assert matter["image"] == "https://static.dw.com/image/1_6.jpg?a=%3Cx%3E%20%7By%7D"
    assert "{" not in body and "<b>" not in body and "<i>" not in body and "<img>" not in body
    lines = body.split("\n")
    assert unescape_markdown(lines[1]) == f"[{item.title}]({item.url})"
    assert lines[1].endswith(f"]({item.url})")
    # the only link targets: the title link and the gallery image (an escaped "\](" is text)
    assert re.findall(r"(?<!\\)\]\(([^)]*)\)", body) == [item.url, "https://static.dw.com/image/2_6.jpg"]
