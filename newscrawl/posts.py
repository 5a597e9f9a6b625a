"""The Jekyll post: one Markdown post with YAML front matter per article id, for ever.

Path: ``<NEWSCRAWL_OUTPUT_DIR>/<site>/_posts/<YYYY-MM-DD>-<slug>.md`` (date of ``published``
in UTC). This module renders posts and names them; :mod:`newscrawl.archive` chooses the
path (the state remembers id → path, so a retitled article rewrites its own file; a
different article that would land on a taken path gets ``-<id>`` appended) and writes them.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from newscrawl.items import adapt
from newscrawl.markdown import escape_text, inert_markdown, link_markdown, markdown_url
from newscrawl.pictures import local_url
from newscrawl.text import clean_text, nfc, parse_datetime
from newscrawl.versions import FIELD_NAMES
from newscrawl.website_versions import reader_time, revision_url

if TYPE_CHECKING:
    import yaml


def _represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.Node:
    style = '"' if "<" in value or ">" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.BaseDumper, value: list) -> yaml.Node:
    # lists of strings stay in flow style ([a, "b"]) as in the seeds, quoted items or not
    flow = all(isinstance(v, str) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow or None)


@functools.cache
def _dumper() -> type:
    """The front matter's dumper, made at the first post written: PyYAML takes ~0.02 s to
    import, and a run with nothing new writes no post (``make bench``'s fixed cost).

    libyaml's safe dumper when PyYAML has it (ten times faster), else the pure-Python one. A
    string holding ``<`` or ``>`` is written double-quoted, so that :func:`_yaml_text` can
    spell those two characters as YAML escapes: the value loads back exactly, and the file
    holds no raw tag from the page."""
    import yaml

    # no anchors and aliases (&id001, *id001) when one value appears twice: each key holds its
    # own copy, as Jekyll readers expect, and the representer skips its object bookkeeping (a
    # class made at run time, on libyaml's dumper when there is one: typed Any)
    dumper: Any = type("_Dumper", (getattr(yaml, "CSafeDumper", yaml.SafeDumper),),
                       {"ignore_aliases": lambda self, data: True})
    dumper.add_representer(str, _represent_str)
    dumper.add_representer(list, _represent_list)
    return dumper


def _yaml_text(matter: dict[str, Any]) -> str:
    import yaml

    text = yaml.dump(matter, Dumper=_dumper(), allow_unicode=True, sort_keys=False,
                     default_flow_style=None, width=10**6)
    # every < and > is inside a double-quoted scalar (the keys are ours), where \x3C is valid
    return text.replace("<", "\\x3C").replace(">", "\\x3E")
SLUG_MAX = 50
#: Unsafe in file names or URLs, plus the braces, brackets and backtick of Liquid and Markdown.
_UNSAFE = re.compile(r'[/\\:*?"<>|#%&\s{}\[\]`]+')
GALLERY_HEADING = {"zh-Hant": "相關圖集", "zh-Hans": "相关图集"}
#: a gallery title that already says "图集：" (DW titles gallery pages so): not said twice
_GALLERY_PREFIX = re.compile(r"^\s*(?:相关|相關)?(?:图集|圖集)\s*[:：]\s*")
_MD_ESCAPE = re.compile(r"\\(.)")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
def _said(text: str) -> str:
    """Text as a reader reads it, to compare: Markdown escapes, link targets and entities
    gone, NFKC, no whitespace."""
    text = html.unescape(_LINK_TARGET.sub("]", _MD_ESCAPE.sub(r"\1", text)))
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def lead_in_body(lead: str | None, body: str | None) -> bool:
    """Whether the body already says the lead (a paragraph of it contains the lead, as read):
    the Epoch Times' lead is the first paragraph's opening sentences, a DW gallery's body is
    its teaser, the lead. The item keeps both (its content hash counts both); the post's
    header then leaves the lead out (``lead_in_body`` in the front matter), so a reader
    reads it once."""
    said = _said(lead or "")
    return bool(said) and any(said in _said(part) for part in re.split(r"\n\s*\n", body or "") if part)


def gallery_markdown(gallery: dict, title: str, site: str, lang: str | None,
                     image_proxy: str | None) -> str:
    """The gallery section: a heading (``相关图集：<title>`` for a gallery the article shows;
    none for the page's own gallery, one titled as the article, as a DW ``g-`` page is: its
    slides are the page, not something related to it), then each picture with its caption
    as alt text (shown if the picture cannot load) and its title, caption and credit under it."""
    gallery_title = _GALLERY_PREFIX.sub("", gallery.get("title") or "")
    own = not gallery_title or _said(gallery_title) == _said(_GALLERY_PREFIX.sub("", title))
    heading = GALLERY_HEADING.get(lang or "", "相关图集")
    lines = [] if own else [f"## {heading}：{escape_text(gallery_title)}", ""]
    for image in gallery["images"]:
        shown = picture_target(image, site, image_proxy)
        if shown:
            alt = clean_text(image.get("caption")) or clean_text(image.get("title")) or ""
            lines.append(f"![{escape_text(alt)}]({shown})")
        label = f"**{escape_text(image['title'])}**：" if image.get("title") else ""
        text = " · ".join(escape_text(x) for x in (image.get("caption"), image.get("credit")) if x)
        if label or text:
            lines.append(f"{label}{text}")
        lines.append("")
    return "\n".join(lines).strip()


def _filename_char(char: str) -> str:
    """Whitespace (any kind) → space; control, format (bidi, zero-width), surrogate,
    private-use and unassigned characters, and U+FFFD (a repaired surrogate) → nothing."""
    if char.isspace():
        return " "
    return "" if char == "\ufffd" or unicodedata.category(char)[0] == "C" else char


def slugify(title: str | None, fallback: str) -> str:
    """File-name-safe slug, ≤ 50 characters: NFC (lone surrogates repaired), no control,
    bidi, zero-width or other invisible format characters, no unsafe characters."""
    text = "".join(map(_filename_char, nfc(title or "")))
    slug = _UNSAFE.sub("-", text).strip("-.")
    slug = slug[:SLUG_MAX].strip("-.")
    return slug or fallback


def post_name(item: Any, with_id: bool = False) -> str:
    a = adapt(item)
    date = a["published"][:10]
    slug = slugify(a["title"], a["id"])
    return f"{date}-{slug}-{a['id']}.md" if with_id else f"{date}-{slug}.md"


def proxied(url: str, proxy: str | None) -> str:
    """An image URL through the optional proxy (``NEWSCRAWL_IMAGE_PROXY``).

    A proxy containing ``{url}`` gets the whole URL there; otherwise the URL without its
    scheme is appended, as images.weserv.nl expects (``https://images.weserv.nl/?url=``).
    """
    if not proxy:
        return url
    if "{url}" in proxy:
        return proxy.replace("{url}", url)
    return proxy + url.split("://", 1)[-1]


def picture_target(image: dict, site: str, proxy: str | None) -> str | None:
    """Where a post shows a picture: its kept copy (``/<site>/assets/img/…``, see
    :mod:`newscrawl.pictures`), else its remote URL through the optional proxy; ``None`` when
    neither is a safe target."""
    return local_url(site, image.get("file")) or markdown_url(proxied(image["url"], proxy))


def front_matter(item: Any, image_proxy: str | None = None,
                 history: list[dict] | None = None) -> dict[str, Any]:
    a = adapt(item)
    source = a.get("source_name") or a["site"]
    authors = list(a.get("authors") or [])
    images = a.get("images") or []
    matter: dict[str, Any] = {
        "layout": "post",
        "title": a["title"],
        "date": a["published"],
        "author": "、".join(authors) if authors else source,
        "from": a["url"],
        "tags": [source, *[t for t in a.get("tags") or [] if t != source]],
        "comments": True,
        "categories": [c for c in (a.get("category"), source) if c],
    }
    extras = {
        "id": a["id"],
        "site": a["site"],
        "authors": authors,
        "editor": a.get("editor"),
        "updated": a.get("updated"),
        # a page that gives only the day (or minute): ``date`` is that day, not an invented time
        "date_precision": a.get("published_precision") if a.get("published_precision") != "second" else None,
        "lead": a.get("lead"),
        "lead_in_body": True if lead_in_body(a.get("lead"), a.get("body_markdown")) else None,
        "image": picture_target(images[0], a["site"], image_proxy) if images else None,
        "lang": a.get("lang"),
        # provenance: the WARC record this text was parsed from, and a version a changed
        # parser derived from an unchanged page (not the site's edit)
        "capture": a.get("capture"),
        "origin": a.get("origin") if a.get("origin") == "parser" else None,
        # an edited article: its version, and when each earlier version was archived
        "version": a.get("version") if history and len(history) > 1 else None,
        "revisions": [_revision_matter(h) for h in history[:-1]] if history and len(history) > 1 else None,
        # Jekyll ≥ 4.0 does not run Liquid on the post at all; older Jekyll (GitHub Pages: 3.9)
        # ignores the key, and the text itself is Liquid-inert (see newscrawl.markdown).
        "render_with_liquid": False,
    }
    matter.update({k: v for k, v in extras.items() if v not in (None, "", [])})
    return matter


def render_post(item: Any, image_proxy: str | None = None, history: list[dict] | None = None) -> str:
    """The whole post: front matter, timestamp comment, title link, body, gallery section,
    and for an edited article (``history``: its archived versions) the list of its revisions.

    Every piece of page text is escaped (:func:`newscrawl.markdown.escape_text`) and every
    URL checked and encoded (:func:`newscrawl.markdown.markdown_url`); the body is made
    inert once more (:func:`newscrawl.markdown.inert_markdown`).
    """
    a = adapt(item)
    matter = _yaml_text(front_matter(item, image_proxy, history))
    published = parse_datetime(a["published"])
    millis = int(published.timestamp() * 1000) if published else 0
    title = clean_text(a["title"]) or a["id"]
    # a figure keeps its caption as alt text too (newscrawl.markdown writes it so): a picture
    # that cannot load still says what it showed
    body = inert_markdown(a.get("body_markdown") or "")
    for image in a.get("images") or []:  # the body's figures show the kept copies
        real, shown = markdown_url(image["url"]), picture_target(image, a["site"], image_proxy)
        if real and shown and shown != real:
            body = body.replace(f"]({real})", f"]({shown})")
    title_line = link_markdown(escape_text(title), a["url"])
    parts = [f"---\n{matter}---\n<!--{millis}-->\n{title_line}\n------", body.strip()]
    gallery = a.get("gallery")
    if gallery and gallery.get("images"):
        parts.append(gallery_markdown(gallery, title, a["site"], a.get("lang"), image_proxy))
    if history and len(history) > 1:
        parts.append(revisions_markdown(history, a.get("lang"), site=a["site"], article_id=a["id"]))
    return "\n\n".join(p for p in parts if p) + "\n"


REVISIONS_HEADING = {"zh-Hant": "修訂記錄", "zh-Hans": "修订记录"}

def _revision_matter(entry: dict) -> dict[str, Any]:
    """An earlier version in the front matter: when, what changed, which version it equals."""
    matter = {"version": entry["version"], "crawled": entry["crawled"], "changed": entry.get("changed") or []}
    matter.update({k: entry[k] for k in ("summary", "equals", "origin") if entry.get(k)})
    return matter


def change_summary(entry: dict) -> str:
    """A version's one-line summary of what changed (``标题、第3段、图片``); for history
    entries written before summaries, the names of the ``changed`` fields; ``""`` for none."""
    summary = entry.get("summary")
    if isinstance(summary, str) and summary:
        return summary
    return "、".join(FIELD_NAMES.get(f, f) for f in entry.get("changed") or [] if isinstance(f, str))


def revisions_markdown(history: list[dict], lang: str | None, *, site: str | None = None,
                       article_id: str | None = None) -> str:
    """The post's last section, its timeline: every archived version, when it was crawled
    (``2026-12-07 07:11 UTC``, as the header gives times), what changed (its one-line
    ``summary``: ``标题、第3段、图片``; for entries written before summaries, the fields of
    ``changed``) and, for a return to an earlier text, which version it equals. With ``site``
    and ``article_id`` each version links to its page on the site
    (:func:`newscrawl.website_versions.revision_url`: the text as it was and the diff)."""
    lines = [f"## {REVISIONS_HEADING.get(lang or '', '修订记录')}", ""]
    for entry in history:
        changed = change_summary(entry)
        first = "：首次存档" if entry["version"] == 1 else ""
        what = f"：{escape_text(changed)}有改动" if changed else first
        equals = entry.get("equals")
        if isinstance(equals, int):
            what += f"（与第 {equals} 版相同）"
        version = int(entry["version"])
        label = f"第 {version} 版"
        url = revision_url(site, article_id, version) if site and article_id else None
        if url:  # ours: ASCII letters, digits, "/", ".", "_" and "-" only
            label = f"[{label}]({url})"
        lines.append(f"- {label}，{escape_text(reader_time(entry.get('crawled')))}{what}")
    lines.append("{: .timeline}")
    return "\n".join(lines)
