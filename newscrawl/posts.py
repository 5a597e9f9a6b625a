"""The Jekyll post: one Markdown post with YAML front matter per article id, for ever.

Path: ``<NEWSCRAWL_OUTPUT_DIR>/<site>/_posts/<YYYY-MM-DD>-<slug>.md`` (date of ``published``
in UTC). This module renders posts and names them; :mod:`newscrawl.archive` chooses the
path (the state remembers id → path, so a retitled article rewrites its own file; a
different article that would land on a taken path gets ``-<id>`` appended) and writes them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from itemadapter import ItemAdapter

from newscrawl.markdown import image_markdown
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
