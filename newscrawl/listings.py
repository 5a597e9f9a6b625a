"""The site's listing pages, written by the project in one pass over the posts (``make site``).

Jekyll renders the posts only; every page that lists posts is written here, from what
:func:`read_post` takes out of each post's front matter and what Jekyll said of its URL and date
(:class:`Entry`). The pages, each wrapped in the site's own layout (the *shell*: a page Jekyll
renders once with ``_layouts/default.html``, its title and main content filled in here):

* ``/`` — the newest :data:`INDEX_LIMIT` articles, one list, each line with its date;
* ``/archive/`` — the months, by year, with their counts; ``/archive/<yyyy>/<mm>/`` each month's
  articles (pages of :data:`PAGE_SIZE`: ``…/page/2/`` on);
* ``/tags/`` — every topic tag with its count; ``/tags/<slug>/`` its articles, paginated;
* ``/galleries/`` — picture galleries and articles with a gallery section, paginated;
* ``/<spider>/`` — one source's articles, newest first, paginated.

A page's size is bounded by :data:`PAGE_SIZE` (the tag and month indexes grow with the number of
tags and months, not of posts), and the whole set is made in time linear in the posts. Every
value from a post is page text: written through :func:`html.escape` (no live HTML; Liquid never
sees these pages). :func:`tag_slug` names a tag's folder; the posts link their tags through the
data file ``_data/newscrawl_tags.json`` (tag → URL) that :mod:`newscrawl.website` writes.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: how many of the newest articles the front page lists
INDEX_LIMIT = 200
#: articles per listing page (a month, a tag, a source, the galleries)
PAGE_SIZE = 200
#: the marks the shell page carries where a listing page's title and content go
SHELL_TITLE, SHELL_MAIN = "@@NEWSCRAWL_TITLE@@", "<!--@@NEWSCRAWL_MAIN@@-->"
#: a post's body holding a gallery section (newscrawl.posts.GALLERY_HEADING)
_GALLERY_SECTION = ("相关图集：", "相關圖集：")
_SLUG_MAX = 60


@dataclass(frozen=True)
class Post:
    """What the listings and feeds need of one post, read from its file (cached by the build)."""

    path: str  # <spider>/_posts/<name>.md, as Jekyll's post.path
    spider: str
    id: str
    title: str
    source: str
    author: str
    topics: tuple[str, ...]
    gallery: bool
    image: str | None = None
    lead: str | None = None
    updated: str | None = None
    original: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Post:
        return cls(**{**data, "topics": tuple(data["topics"])})


@dataclass(frozen=True)
class Entry:
    """A post as built: its front matter and the URL and date Jekyll gave it."""

    post: Post
    url: str  # site-absolute, percent-encoded, as Jekyll's post.url
    date: datetime  # UTC


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def read_post(path: str, text: str) -> Post | None:
    """The fields of one post (``path``: ``<spider>/_posts/<name>.md``); ``None`` when the file
    has no front matter Jekyll would read as a post."""
    import yaml

    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    if end < 0:
        return None
    try:
        matter = yaml.load(text[4:end], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if not isinstance(matter, dict):
        return None
    tags = [_text(t) for t in matter.get("tags") or [] if t is not None] \
        if isinstance(matter.get("tags"), list) else []
    categories = matter.get("categories") if isinstance(matter.get("categories"), list) else []
    source = _text(categories[-1]) if categories else (tags[0] if tags else path.split("/", 1)[0])
    original = _text(matter.get("from")) or None
    body = text[end + 5:]
    return Post(
        path=path, spider=path.split("/", 1)[0], id=_text(matter.get("id")) or path.rsplit("/", 1)[-1][:-3],
        title=_text(matter.get("title")), source=source, author=_text(matter.get("author")),
        # the first tag is the source name (newscrawl.posts.front_matter): the topics follow
        topics=tuple(dict.fromkeys(t for t in tags[1:] if t.strip())),
        gallery=bool(original and "/g-" in original) or any(h in body for h in _GALLERY_SECTION),
        image=_text(matter.get("image")) or None, lead=_text(matter.get("lead")) or None,
        updated=_text(matter.get("updated")) or None, original=original)


def tag_slug(tag: str) -> str:
    """The folder of a tag's pages under ``/tags/``: letters, marks and digits of any script
    kept (lower case), every other run of characters one ``-``; a tag with none of them, or a
    too long one, is named by its hash. Two tags with one slug share one page."""
    out, dash = [], False
    for char in unicodedata.normalize("NFC", tag):
        if unicodedata.category(char)[0] in "LM" or unicodedata.category(char) == "Nd":
            out.append(char.lower())
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    slug = "".join(out).strip("-")
    digest = hashlib.sha1(tag.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    if not slug:
        return f"t-{digest}"
    if len(slug) > _SLUG_MAX:
        return f"{slug[:_SLUG_MAX - 11].rstrip('-')}-{digest}"
    return slug


def tag_url(tag: str) -> str:
    return f"/tags/{tag_slug(tag)}/"


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _href(url: str) -> str:
    """A site-absolute URL for an ``href``: non-ASCII percent-encoded, then HTML-escaped."""
    from urllib.parse import quote

    return _e(quote(url, safe="/%!$&'()*+,;=:@~-._"))


def _picture(image: str | None) -> str:
    """A gallery's first picture: its kept copy on the site, or a remote http(s) one."""
    if not image or not re.match(r"^(/[^/\\]|https?://)", image):
        return ""
    return f'<img src="{_href(image) if image.startswith("/") else _e(image)}" alt="" loading="lazy"> '


def _item(entry: Entry, with_time: bool = False, with_picture: bool = False) -> str:
    p, d = entry.post, entry.date
    shown = d.strftime("%Y-%m-%d %H:%M" if with_time and (d.hour or d.minute) else "%Y-%m-%d")
    picture = _picture(p.image) if with_picture else ""
    return (f'<li>{picture}<time datetime="{d.strftime("%Y-%m-%dT%H:%M:%SZ")}">{shown}</time> '
            f'<a href="{_href(entry.url)}">{_e(p.title or p.id)}</a> '
            f'<span class="source">{_e(p.source)}</span></li>')


def _list(entries: Iterable[Entry], with_time: bool = False, with_picture: bool = False) -> str:
    return '<ol class="posts">\n' + "\n".join(_item(e, with_time, with_picture) for e in entries) + "\n</ol>"


@dataclass
class Page:
    """One listing page: its folder under the site (``archive/2023/10``; ``""`` the front
    page), the title (text) and the main content (HTML)."""

    folder: str
    title: str
    main: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.folder}/index.html" if self.folder else "index.html"


def _paginated(folder: str, title: str, heading: str, entries: list[Entry],
               intro: str = "", with_picture: bool = False) -> list[Page]:
    """``folder``'s pages of :data:`PAGE_SIZE` entries (``folder/page/<n>/`` from the second),
    with links to every page of the set."""
    chunks = [entries[i:i + PAGE_SIZE] for i in range(0, len(entries), PAGE_SIZE)] or [[]]
    def url(n: int) -> str:
        return f"/{folder}/" if n == 1 else f"/{folder}/page/{n}/"

    pages = []
    for n, chunk in enumerate(chunks, 1):
        nav = ""
        if len(chunks) > 1:
            links = " ".join(f'<span class="current">{k}</span>' if k == n else
                             f'<a href="{_href(url(k))}">{k}</a>' for k in range(1, len(chunks) + 1))
            nav = f'\n<nav class="pages" aria-label="页">{links}</nav>'
        suffix = f"（第 {n} 页）" if n > 1 else ""
        main = f"<h1>{_e(heading)}{suffix}</h1>\n{intro}{_list(chunk, with_picture=with_picture)}{nav}"
        pages.append(Page(folder if n == 1 else f"{folder}/page/{n}", title + suffix, main))
    return pages


def listing_pages(entries: list[Entry], source_names: dict[str, str]) -> list[Page]:
    """Every listing page of the site, from ``entries`` (any order); ``source_names``: spider
    folder → source name (德国之声) for the per-source pages."""
    entries = sorted(entries, key=lambda e: (e.date, e.post.path), reverse=True)
    pages: list[Page] = []
    # the front page: the newest, one list with the date on each line
    newest = entries[:INDEX_LIMIT]
    more = f'<p class="more">共 {len(entries)} 篇 · <a href="/archive/">所有文章，按月份</a></p>'
    pages.append(Page("", "最新", f"<h1>最新文章</h1>\n{_list(newest, with_time=True)}\n{more}"))
    # the archive: months by year, each month its own (paginated) page
    months: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        months[e.date.strftime("%Y/%m")].append(e)
    years: dict[str, list[str]] = defaultdict(list)
    for month in months:  # newest first, as entries are
        years[month[:4]].append(month)
    index = ["<h1>所有文章，按月份</h1>"]
    for year, ms in years.items():
        links = "".join(f'<li><a href="/archive/{m}/">{m.replace("/", "-")}</a> '
                        f'<span class="count">{len(months[m])}</span></li>' for m in ms)
        index.append(f'<section class="year"><h2>{year}</h2><ul class="months">{links}</ul></section>')
    pages.append(Page("archive", "按日期", "\n".join(index)))
    for month, items in months.items():
        label = month.replace("/", "-")
        pages += _paginated(f"archive/{month}", label, f"{label} 的文章", items,
                            '<p class="up"><a href="/archive/">所有月份</a></p>\n')
    # tags: the index, then one (paginated) page per tag slug
    by_slug: dict[str, dict[str, list[Entry]]] = defaultdict(lambda: defaultdict(list))
    for e in entries:
        for tag in e.post.topics:
            by_slug[tag_slug(tag)][tag].append(e)
    tags = sorted(((tag, slug, len(items)) for slug, named in by_slug.items()
                   for tag, items in named.items()), key=lambda t: (-t[2], t[0]))
    links = "".join(f'<li><a href="{_href(f"/tags/{slug}/")}">{_e(tag)}</a> '
                    f'<span class="count">{n}</span></li>' for tag, slug, n in tags)
    pages.append(Page("tags", "标签", f'<h1>标签</h1>\n<ul class="tags">{links}</ul>'))
    for slug, named in by_slug.items():
        name = " / ".join(sorted(named))
        items = sorted({id(e): e for es in named.values() for e in es}.values(),
                       key=lambda e: (e.date, e.post.path), reverse=True)
        pages += _paginated(f"tags/{slug}", name, f"标签：{name}", items,
                            f'<p class="up">{len(items)} 篇 · <a href="/tags/">所有标签</a></p>\n')
    # galleries
    galleries = [e for e in entries if e.post.gallery]
    pages += _paginated("galleries", "图集", "图集", galleries, with_picture=True)
    # one source's articles
    by_spider: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_spider[e.post.spider].append(e)
    for spider, items in sorted(by_spider.items()):
        name = source_names.get(spider) or spider
        feed = f'<a href="/{_e(spider)}/feed.xml">订阅（Atom）</a>'
        pages += _paginated(spider, name, f"{name}的文章", items,
                            f'<p class="up">{len(items)} 篇 · {feed}</p>\n')
    return pages


def fill_shell(shell: str, page: Page) -> str:
    """``page`` inside the site's layout (the rendered shell page)."""
    return shell.replace(SHELL_TITLE, _e(page.title), 1).replace(SHELL_MAIN, page.main, 1)


#: a listing page's folder checked before it is written (nothing from a page escapes the site)
SAFE_FOLDER = re.compile(r"^(?:[^/.][^/]*)(?:/[^/.][^/]*)*$|^$")
