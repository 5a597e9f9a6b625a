"""Every version readable on the site: revision pages, the post's timeline, previous/next links.

``make site`` (:mod:`newscrawl.website`) calls :func:`stage_versions` for each spider
folder. It writes, into Jekyll's staging folder only (the archive is not touched):

* one page per version of each edited article, at ``/<spider>/revisions/<id>/v<N>/``
  (:func:`revision_url`): the article's timeline (every version, its crawl time as the post
  header gives times, ``2026-12-07 07:11 UTC``, and its one-line summary of what changed),
  the diff that made version N (``_revisions/<id>/v<N>.diff.md``, see
  :func:`newscrawl.versions.diff_markdown`) rendered with ``<ins>``/``<del>``, and the text
  of version N as it was (``_revisions/<id>/v<N>.md``; the newest version is the post
  itself, linked). Each page is a Jekyll page (layout ``revision``) whose front matter holds
  HTML made here: page text is HTML-escaped first, then only our own markup is added
  (:func:`diff_html`), and braces become entities, so neither Liquid nor kramdown ever
  reads page text as syntax, and no link comes from page text. The page's content, the old
  version's Markdown, was made inert by :mod:`newscrawl.posts` when it was written.
* ``_data/neighbours.json``: per post URL the previous and next post of the
  same source by date (title and URL), which the post layout shows under the article, one
  dictionary look-up per post (no Liquid loop over every post).

The post links to its revision pages from its timeline (:func:`newscrawl.posts.revisions_markdown`);
each revision page links back to the post, whose URL is computed here as Jekyll computes it
(:func:`post_url`). One pass over the posts' front matter and the ``_revisions`` folders:
linear in the archive's size.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newscrawl.text import parse_datetime

REVISIONS_DIR = "_revisions"
#: A spider folder's and an article id's characters that may go into a URL path unencoded.
_SAFE_SITE = re.compile(r"[a-z0-9_-]+")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: What the timeline and the revision pages call a time (as the post header's Liquid date format).
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def revision_url(site: str, article_id: str, version: int) -> str | None:
    """The site-relative URL of version ``version`` of an article, ``/<site>/revisions/<id>/v<N>/``
    (its diff from the version before, and its text); ``None`` for a site or id that is not
    plain ASCII letters, digits, ``.``, ``_`` and ``-`` (nothing of it needs encoding)."""
    if not (_SAFE_SITE.fullmatch(site) and _SAFE_ID.fullmatch(article_id)) or int(version) < 1:
        return None
    return f"/{site}/revisions/{article_id}/v{int(version)}/"


def reader_time(stamp: Any) -> str:
    """A crawl stamp (``2026-12-07T00:56:16Z``) as the site shows times: ``2026-12-07 00:56 UTC``;
    a stamp that does not parse is given as it is (``""`` for none)."""
    parsed = parse_datetime(stamp)
    if parsed is None:
        return str(stamp or "")
    return parsed.astimezone(UTC).strftime(TIME_FORMAT)


# ---- the post's URL, as Jekyll makes it ----------------------------------------------------------

#: Characters Jekyll's "pretty" slug keeps besides letters, marks and decimal digits.
_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")
#: Characters Jekyll leaves unescaped in a URL path (``Jekyll::URL.escape_path``).
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
_DATED_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")


def jekyll_slug(text: str) -> str:
    """Jekyll's ``slugify(text, mode: "pretty", cased: true)``: every run of characters other
    than letters, marks, decimal digits and ``._~!$&'()+,;=@`` becomes one ``-``, and a
    leading and trailing ``-`` is removed (``【预告】芯片之战：…`` → ``预告-芯片之战-…``)."""
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char in _PRETTY_KEEP or category[0] in "LM" or category == "Nd":
            out.append(char)
        elif not out or out[-1] != "-":  # "-" itself is never kept: a run becomes one "-"
            out.append("-")
    return "".join(out).removeprefix("-").removesuffix("-")


def post_url(site: str, file_name: str, date: Any) -> str | None:
    """The URL Jekyll gives the post ``<site>/_posts/<file_name>`` with the permalink rule
    ``/<site>/:year/:month/:day/:title/`` (:mod:`newscrawl.website`): the date of its ``date``
    front matter in UTC (the file name's date when that does not parse), the slug of its file
    name, percent-encoded as Jekyll escapes paths. ``None`` for a file name of no post."""
    match = _DATED_NAME.match(file_name)
    if not match or not _SAFE_SITE.fullmatch(site):
        return None
    when = parse_datetime(date) or parse_datetime(match.group(1))
    if when is None:
        return None
    slug = jekyll_slug(match.group(2).rstrip("."))
    path = f"/{site}/{when:%Y/%m/%d}/{slug}/"
    return quote(path, safe=_PATH_SAFE)


# ---- the diff file, read back ------------------------------------------------------------------

_HEAD = re.compile(r"^# (?P<id>.*): version (?P<old>\d+) → (?P<new>\d+)$")
_CRAWLED = re.compile(r"^- version (?P<version>\d+): crawled (?P<when>.*)$")
_EQUALS = re.compile(r"^- version \d+ shows the same as version (?P<equals>\d+) ")
_SECTION = re.compile(r"^## (?P<field>[a-z]+) \((?P<label>[^)]*)\)$")


@dataclass
class Diff:
    """A ``v<N>.diff.md`` read back: the versions, when each was crawled, the summary, and per
    changed field its text with ``[-removed-]`` and ``{+added+}`` marks."""

    old_version: int
    new_version: int
    crawled: dict[int, str] = field(default_factory=dict)
    summary: str = ""
    equals: int | None = None
    #: ``(field, its Chinese name, the marked text)`` per changed field, in order
    sections: list[tuple[str, str, str]] = field(default_factory=list)


def parse_diff(text: str) -> Diff | None:
    """Read a diff written by :func:`newscrawl.versions.diff_markdown`; ``None`` if it is not one."""
    lines = text.split("\n")
    head = _HEAD.match(lines[0]) if lines else None
    if head is None:
        return None
    diff = Diff(int(head["old"]), int(head["new"]))
    i = 1
    while i < len(lines) and not lines[i].startswith("## "):
        line = lines[i]
        if m := _CRAWLED.match(line):
            diff.crawled[int(m["version"])] = m["when"]
        elif line.startswith("- changed: "):
            diff.summary = line.removeprefix("- changed: ")
        elif m := _EQUALS.match(line):
            diff.equals = int(m["equals"])
        i += 1
    while i < len(lines):
        section = _SECTION.match(lines[i])
        fence_line = lines[i + 2] if section and i + 2 < len(lines) else ""
        if not section or not re.fullmatch(r"`{3,}text", fence_line):
            i += 1
            continue
        fence = fence_line.removesuffix("text")
        end = i + 3
        while end < len(lines) and lines[end] != fence:
            end += 1
        diff.sections.append((section["field"], section["label"], "\n".join(lines[i + 3:end])))
        i = end + 1
    return diff


# ---- the diff, rendered -------------------------------------------------------------------------

#: ``[-removed-]`` and ``{+added+}``; a ``[`` of page text is ``\\[`` in the body's Markdown and
#: a ``{`` is ``&#123;``, so in the body no mark comes from page text.
_MARK = re.compile(r"(?<!\\)\[-(?P<old>.*?)-\]|\{\+(?P<new>.*?)\+\}", re.S)
_LABEL = re.compile(r"^〔(?P<label>[^〕\n]{1,20})〕")
#: A Markdown backslash escape (newscrawl.markdown.escape_text) and a figure caption's emphasis.
_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]|$~#\-+=:.)!(>])")
_EMPHASIS = re.compile(r"^\*(?=\S)(.*?)(?<=\S)\*$", re.S)


def _inert(text: str, markdown: bool) -> str:
    """Page text as HTML text: for the body's Markdown, its escapes undone first (a reader
    reads ``[`` and ``<``, not ``\\[`` and ``&lt;``); then every ``<``, ``>``, ``&`` and quote
    escaped, and ``{``, ``}`` and ``%`` written as entities (no Liquid, no kramdown syntax)."""
    if markdown:
        text = html.unescape(_MD_ESCAPE.sub(r"\1", text))
    text = html.escape(text, quote=True)
    return text.replace("{", "&#123;").replace("}", "&#125;").replace("%", "&#37;")


def marked_html(text: str, markdown: bool = False) -> str:
    """A marked line of a diff as HTML: ``[-x-]`` → ``<del>x</del>``, ``{+y+}`` → ``<ins>y</ins>``,
    everything else escaped (:func:`_inert`). ``markdown``: the text is the body's Markdown."""
    out: list[str] = []
    last = 0
    for m in _MARK.finditer(text):
        out.append(_inert(text[last:m.start()], markdown))
        if m["old"] is not None:
            out.append(f"<del>{_inert(m['old'], markdown)}</del>")
        else:
            out.append(f"<ins>{_inert(m['new'], markdown)}</ins>")
        last = m.end()
    out.append(_inert(text[last:], markdown))
    return "".join(out).replace("\n", "<br>")


def diff_html(diff: Diff) -> str:
    """The diff's changed fields as HTML: per field a heading and its blocks, each block's
    place (``第2段``) apart, ``⋯`` where unchanged text is left out."""
    parts: list[str] = []
    for name, label, text in diff.sections:
        markdown = name == "body"
        parts.append(f'<section class="diff-field"><h3>{_inert(label, False)}</h3>')
        for block in text.split("\n\n"):
            if block.strip() == "⋯":
                parts.append('<p class="gap">⋯</p>')
                continue
            where = ""
            if m := _LABEL.match(block):
                where = f'<span class="where">{_inert(m["label"], False)}</span> '
                block = block[m.end():]
            if markdown and (m := _EMPHASIS.match(block)):
                block = m.group(1)
            parts.append(f"<p>{where}{marked_html(block, markdown)}</p>")
        parts.append("</section>")
    return "".join(parts)


# ---- the timeline ------------------------------------------------------------------------------

@dataclass
class Version:
    """One version of an article in the timeline."""

    number: int
    crawled: str
    summary: str = ""
    equals: int | None = None


def timeline_html(site: str, article_id: str, versions: list[Version], current: int | None,
                  post: str | None) -> str:
    """The timeline as an HTML list: every version, linked to its page (the ``current`` one
    not), its crawl time and what changed; the newest also links to the post."""
    items = []
    for v in versions:
        label = f"第 {v.number} 版"
        url = revision_url(site, article_id, v.number)
        if v.number != current and url:
            label = f'<a href="{html.escape(url)}">{label}</a>'
        what = "首次存档" if v.number == 1 else (f"{_inert(v.summary, False)}有改动" if v.summary else "")
        if v.equals:
            what += f"（与第 {int(v.equals)} 版相同）"
        time = html.escape(reader_time(v.crawled))
        classes = ' class="current"' if v.number == current else ""
        items.append(f"<li{classes}>{label}，<time>{time}</time>{'：' + what if what else ''}</li>")
    return f'<ol class="timeline">{"".join(items)}</ol>'


# ---- staging ------------------------------------------------------------------------------------

_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)
_REVISIONS_SECTION = re.compile(r"\n## (?:修订记录|修訂記錄)\n\n- (?:\[)?第 1 版")


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A post's front matter (YAML, libyaml's loader when there is one) and its body."""
    import yaml

    match = _FRONT.match(text)
    if not match:
        return {}, text
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(match.group(1), Loader=loader)
    except yaml.YAMLError:
        return {}, text[match.end():]
    return (data if isinstance(data, dict) else {}), text[match.end():]


def _old_text(body: str) -> str:
    """An earlier version's post body for its page: without its first lines (the timestamp
    comment, the title linked to the original and the rule under it: the page's header says
    that) and without its own list of revisions (the page shows the timeline)."""
    lines = body.split("\n")
    if "------" in lines[:4]:
        lines = lines[lines.index("------") + 1:]
    text = "\n".join(lines)
    cut = [m.start() for m in _REVISIONS_SECTION.finditer(text)]
    return (text[:cut[-1]] if cut else text).strip() + "\n"


@dataclass
class Post:
    """What the site build needs of a post."""

    site: str
    id: str
    title: str
    date: str
    url: str
    matter: dict[str, Any]
    #: its file's name in ``<site>/_posts/``
    file_name: str = ""


#: How much of a post is read first (its front matter is usually a few hundred bytes).
HEAD_BYTES = 8192
#: The front matter's keys every post needs here, one line each as newscrawl.posts writes them.
_KEY_LINE = re.compile(r"^(id|date|title): (.*)$", re.M)


def _scalar(value: str) -> Any:
    """A one-line YAML scalar: a plain one is its text (newscrawl.posts writes plain only what
    needs no escape); a quoted one is read by YAML."""
    if value[:1] not in ("'", '"', "[", "{", "&", "*", "!", "|", ">", "%", "@", "`"):
        return value
    if len(value) > 1 and value[0] == value[-1] == "'" and "'" not in value[1:-1]:
        return value[1:-1]  # single-quoted without an escaped quote: the date as written
    import yaml

    return yaml.load(value, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _post_keys(text: str) -> dict[str, Any]:
    """``id``, ``date`` and ``title`` of a post's front matter: read from their lines (a tenth
    of the cost of loading the whole front matter, which dominated at 10,000 posts); the whole
    front matter is loaded when a line is missing or does not read."""
    import yaml

    match = _FRONT.match(text)
    if not match:
        return {}
    found: dict[str, Any] = {}
    try:
        for m in _KEY_LINE.finditer(match.group(1)):
            found.setdefault(m.group(1), _scalar(m.group(2)))
    except yaml.YAMLError:  # a line that reads otherwise in its context: read the whole
        found = {}
    if len(found) < 3:
        return _front_matter(text)[0]
    return found


def read_posts(folder: Path, full: frozenset[str] = frozenset()) -> list[Post]:
    """Every post of a spider folder with an id and a URL, oldest first (by ``date``, then
    file name); the whole front matter (``Post.matter``) only for the ids in ``full``."""
    posts = []
    for path in sorted((folder / "_posts").glob("*.md")):
        with path.open("rb") as f:  # the front matter is at the head: the body only if needed
            head = f.read(HEAD_BYTES)
            if b"\n---\n" not in head[4:]:
                head += f.read()
        text = head.decode("utf-8", errors="replace")
        matter = _post_keys(text)
        article_id, date = matter.get("id"), str(matter.get("date") or "")
        url = post_url(folder.name, path.name, date)
        if isinstance(article_id, str) and url:
            if article_id in full:
                matter = _front_matter(path.read_text(encoding="utf-8"))[0]
            title = str(matter.get("title") or article_id)
            posts.append(Post(folder.name, article_id, title, date, url, matter, path.name))
    posts.sort(key=lambda p: (parse_datetime(p.date) or datetime.min.replace(tzinfo=UTC)))
    return posts


def neighbours(posts: list[Post]) -> dict[str, dict[str, dict[str, str]]]:
    """Per post URL (Jekyll's ``page.url``: the post layout looks itself up by it; ``page.id``
    is Jekyll's own), the ``previous`` (older) and ``next`` (newer) post of the same source."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for i, post in enumerate(posts):
        around: dict[str, dict[str, str]] = {}
        if i > 0:
            around["previous"] = {"title": posts[i - 1].title, "url": posts[i - 1].url}
        if i + 1 < len(posts):
            around["next"] = {"title": posts[i + 1].title, "url": posts[i + 1].url}
        out[post.url] = around
    return out


def _versions(post: Post, diffs: dict[int, Diff]) -> list[Version]:
    """The article's versions: the earlier ones from the post's front matter (``revisions``),
    the newest from its diff; a version known only from a diff file is taken from there, the
    post's own ``version`` (its page then without a diff) when its diff file is missing."""
    from newscrawl.posts import change_summary

    known: dict[int, Version] = {}
    for entry in post.matter.get("revisions") or []:
        if isinstance(entry, dict) and isinstance(entry.get("version"), int):
            equals = entry.get("equals")
            known[entry["version"]] = Version(entry["version"], str(entry.get("crawled") or ""),
                                              change_summary(entry),
                                              equals if isinstance(equals, int) else None)
    for n, diff in diffs.items():
        known.setdefault(n, Version(n, diff.crawled.get(n, ""), diff.summary, diff.equals))
        if diff.old_version not in known and diff.old_version in diff.crawled:
            known[diff.old_version] = Version(diff.old_version, diff.crawled[diff.old_version])
    current = post.matter.get("version")
    if isinstance(current, int) and current > 1 and current not in known:  # its diff is missing
        known[current] = Version(current, "")
    return [known[n] for n in sorted(known)]


def _yaml(matter: dict[str, Any]) -> str:
    from newscrawl.posts import _yaml_text

    return _yaml_text(matter)


def stage_versions(folder: Path, staging: Path) -> dict[str, Any]:
    """Stage the revision pages of one spider folder (``staging/<spider>/revisions/…``) and
    return its neighbours (:func:`neighbours`, ``"neighbours"``) for ``_data/neighbours.json``,
    each post's URL (``"urls"``: ``<spider>/_posts/<name>`` → URL) and the pages staged
    (``"pages"``)."""
    site = folder.name
    edited = frozenset(p.name for p in (folder / REVISIONS_DIR).glob("*") if p.is_dir())
    posts = read_posts(folder, edited)
    by_id = {post.id: post for post in posts}
    pages = 0
    for article in sorted((folder / REVISIONS_DIR).glob("*/")):
        post = by_id.get(article.name)
        if post is None or revision_url(site, post.id, 1) is None:
            continue
        diffs: dict[int, Diff] = {}
        for path in article.glob("v*.diff.md"):
            diff = parse_diff(path.read_text(encoding="utf-8"))
            if diff is not None:
                diffs[diff.new_version] = diff
        versions = _versions(post, diffs)
        if len(versions) < 2:
            continue
        latest = versions[-1].number
        for v in versions:
            old = article / f"v{v.number}.md"
            content, title = "", post.title
            if v.number != latest and old.is_file():
                old_matter, old_body = _front_matter(old.read_text(encoding="utf-8"))
                content = _old_text(old_body)
                title = str(old_matter.get("title") or title)
            matter = {
                "layout": "revision",
                "title": f"{title}（第 {v.number} 版）",
                # the title as it was in this version
                "article_title": title,
                "permalink": revision_url(site, post.id, v.number),
                "post_url": post.url,
                "from": post.matter.get("from"),
                "lang": post.matter.get("lang"),
                "version": v.number,
                "latest": latest,
                "crawled": reader_time(v.crawled),
                "summary": v.summary or None,
                "timeline_html": timeline_html(site, post.id, versions, v.number, post.url),
                "diff_html": diff_html(diffs[v.number]) if v.number in diffs else None,
                "render_with_liquid": False,
            }
            target = staging / site / "revisions" / post.id / f"v{v.number}" / "index.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            front = _yaml({k: x for k, x in matter.items() if x is not None})
            target.write_text(f"---\n{front}---\n{content}", encoding="utf-8")
            pages += 1
    return {"neighbours": neighbours(posts), "pages": pages,
            "urls": {f"{site}/_posts/{post.file_name}": post.url for post in posts}}


def write_neighbours(staging: Path, around: dict[str, dict[str, Any]]) -> None:
    """``_data/neighbours.json``: ``{post URL: {previous, next}}`` (from :func:`neighbours`), for
    the post layout."""
    data = staging / "_data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "neighbours.json").write_text(json.dumps(around, ensure_ascii=False), encoding="utf-8")
