"""The Jekyll post writer: one Markdown post with YAML front matter per article id, for ever.

Path: ``<NEWSCRAWL_OUTPUT_DIR>/<site>/_posts/<YYYY-MM-DD>-<slug>.md`` (date of ``published``
in UTC). The state remembers id → path, so a retitled article rewrites its own file; a
different article that would land on a taken path gets ``-<id>`` appended. Files are written
to a temporary file in the same directory and renamed into place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.files import write_atomic
from newscrawl.markdown import image_markdown
from newscrawl.state import ArticleStore
from newscrawl.text import clean_text, nfc, parse_datetime

#: libyaml's safe dumper when PyYAML has it (ten times faster), else the pure-Python one.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SLUG_MAX = 50
_UNSAFE = re.compile(r'[/\\:*?"<>|#%&\s]+')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
GALLERY_HEADING = {"zh-Hant": "相關圖集", "zh-Hans": "相关图集"}


def slugify(title: str | None, fallback: str) -> str:
    """File-name-safe slug: NFC, no control or unsafe characters, ≤ 50 characters."""
    text = _CONTROL.sub("", nfc(title or ""))
    slug = _UNSAFE.sub("-", text).strip("-.")
    slug = slug[:SLUG_MAX].strip("-.")
    return slug or fallback


def post_name(item: Any, with_id: bool = False) -> str:
    a = ItemAdapter(item)
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


def front_matter(item: Any, image_proxy: str | None = None) -> dict[str, Any]:
    a = ItemAdapter(item)
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
        "image": proxied(images[0]["url"], image_proxy) if images else None,
        "lang": a.get("lang"),
    }
    matter.update({k: v for k, v in extras.items() if v not in (None, "", [])})
    return matter


def _escape_link_text(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def render_post(item: Any, image_proxy: str | None = None) -> str:
    """The whole post: front matter, timestamp comment, title link, body, gallery section."""
    a = ItemAdapter(item)
    matter = yaml.dump(front_matter(item, image_proxy), Dumper=_Dumper, allow_unicode=True,
                       sort_keys=False, default_flow_style=None, width=10**6)
    published = parse_datetime(a["published"])
    millis = int(published.timestamp() * 1000) if published else 0
    title = clean_text(a["title"]) or a["id"]
    body = a.get("body_markdown") or ""
    if image_proxy:
        for image in a.get("images") or []:
            body = body.replace(f"]({image['url']})", f"]({proxied(image['url'], image_proxy)})")
    parts = [f"---\n{matter}---\n<!--{millis}-->\n[{_escape_link_text(title)}]({a['url']})\n------",
             body.strip()]
    gallery = a.get("gallery")
    if gallery and gallery.get("images"):
        heading = GALLERY_HEADING.get(a.get("lang") or "", "相关图集")
        lines = [f"## {heading}：{gallery.get('title') or title}", ""]
        for image in gallery["images"]:
            lines.append(image_markdown(proxied(image["url"], image_proxy), image.get("caption")))
            label = f"**{image['title']}**：" if image.get("title") else ""
            text = " · ".join(x for x in (image.get("caption"), image.get("credit")) if x)
            if label or text:
                lines.append(f"{label}{text}")
            lines.append("")
        parts.append("\n".join(lines).strip())
    return "\n\n".join(p for p in parts if p) + "\n"


class JekyllPostsPipeline:
    """Writes (or rewrites in place) the item's post and records its path in the state."""

    def __init__(self, output_dir: Path, store: ArticleStore, stats: Any, image_proxy: str | None):
        self.output_dir = output_dir
        self.store = store
        self.stats = stats
        self.image_proxy = image_proxy or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JekyllPostsPipeline:
        s = crawler.settings
        return cls(Path(s.get("NEWSCRAWL_OUTPUT_DIR")), ArticleStore.from_crawler(crawler),
                   crawler.stats, s.get("NEWSCRAWL_IMAGE_PROXY"))

    def posts_dir(self, site: str) -> Path:
        return self.output_dir / site / "_posts"

    def path_for(self, item: Any) -> Path:
        """The article's own path: the remembered one, else the first free candidate."""
        a = ItemAdapter(item)
        known = self.store.get(a["site"], a["id"])
        directory = self.posts_dir(a["site"])
        if known and known.post_path:
            return directory / known.post_path
        for name in (post_name(item), post_name(item, with_id=True)):
            owner = self.store.path_owner(name)
            if owner is None and not (directory / name).exists():
                return directory / name
            if owner == (a["site"], a["id"]):
                return directory / name
        stem = post_name(item, with_id=True)[:-3]
        n = 2
        while self.store.path_owner(f"{stem}-{n}.md") or (directory / f"{stem}-{n}.md").exists():
            n += 1
        return directory / f"{stem}-{n}.md"

    def process_item(self, item: Any) -> Any:
        a = ItemAdapter(item)
        path = self.path_for(item)
        existed = path.exists()
        write_atomic(path, render_post(item, self.image_proxy))
        self.store.set_post_path(a["site"], a["id"], path.name)
        self.stats.inc_value("newscrawl/posts/rewritten" if existed else "newscrawl/posts/written")
        return item
