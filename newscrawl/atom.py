"""The site's Atom feeds (RFC 4287), written by the project (no Jekyll plugin).

Per source (spider folder), two feeds:

* ``/<spider>/feed.xml`` — the newest :data:`FEED_SIZE` articles (title, link to the post and
  to the original, date, author, lead as summary, topics as categories);
* ``/<spider>/changes.xml`` — the newest :data:`FEED_SIZE` new versions of edited articles:
  each entry is version N (N ≥ 2) of an article, titled with the article's title and the
  one-line summary of what changed (``标题、第2段``), linked to that version's diff page
  ``/<spider>/revisions/<id>/v<N>/`` (:func:`newscrawl.website_versions.revision_url`) and
  to the post.

Ids are ``urn:newscrawl:<spider>:<id>`` (``…:v<N>`` for a version) and never change; every
date is RFC 3339 in UTC. Links are site-absolute (``/dw/…``), resolved against ``xml:base``
when the site's ``url`` is known (``_config.yml``'s ``url`` or ``--base-url``). Text is XML
text: whatever a page held, the feed is well-formed and holds no markup of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from newscrawl.listings import Entry
from newscrawl.website_versions import revision_url

#: entries per feed
FEED_SIZE = 50
#: characters XML 1.0 does not allow (a page's control characters stay out of the feed)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: the header lines of a diff file (newscrawl.versions.diff_markdown)
_DIFF_VERSION = re.compile(r"^- version (\d+): crawled (\S+)$", re.M)
_DIFF_CHANGED = re.compile(r"^- changed: (.+)$", re.M)


@dataclass(frozen=True)
class Change:
    """One new version of an article, read from ``_revisions/<id>/v<N>.diff.md``."""

    spider: str
    id: str
    version: int
    crawled: str  # RFC 3339
    summary: str


def read_change(spider: str, article_id: str, version: int, text: str) -> Change | None:
    """The version a diff file shows (``version`` from its name): when it was crawled and what
    changed; ``None`` when the file does not say when."""
    crawled = {int(n): t for n, t in _DIFF_VERSION.findall(text[:4000])}
    if version not in crawled or _date(crawled[version]) is None:
        return None
    changed = _DIFF_CHANGED.search(text[:4000])
    return Change(spider, article_id, version, crawled[version], changed[1].strip() if changed else "")


def _date(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return _date(datetime.fromisoformat(text))
    except ValueError:
        return None


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _t(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _a(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _id(spider: str, article_id: str, suffix: str = "") -> str:
    return f"urn:newscrawl:{quote(spider, safe='')}:{quote(article_id, safe='')}{suffix}"


def _href(url: str) -> str:
    return quote(url, safe="/%!$&'()*+,;=:@~-._?#")


def _feed(*, feed_id: str, title: str, self_url: str, alternate: str, site_title: str,
          base_url: str | None, updated: datetime, entries: list[str]) -> str:
    base = f" xml:base={_a(base_url.rstrip('/') + '/')}" if base_url else ""
    return "".join([
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom"{base}>\n',
        f"<id>{_t(feed_id)}</id>\n<title>{_t(title)}</title>\n<updated>{rfc3339(updated)}</updated>\n",
        f'<author><name>{_t(site_title)}</name></author>\n',
        f'<link rel="self" type="application/atom+xml" href={_a(_href(self_url))}/>\n',
        f'<link rel="alternate" type="text/html" href={_a(_href(alternate))}/>\n',
        *entries, "</feed>\n"])


def articles_feed(spider: str, source: str, entries: list[Entry], *, site_title: str,
                  base_url: str | None = None) -> str:
    """``/<spider>/feed.xml``: the source's newest articles."""
    newest = sorted(entries, key=lambda e: (e.date, e.post.path), reverse=True)[:FEED_SIZE]
    items, latest = [], datetime(1970, 1, 1, tzinfo=UTC)
    for e in newest:
        p = e.post
        updated = max(e.date, _date(p.updated) or e.date)
        latest = max(latest, updated)
        parts = [f"<entry>\n<id>{_t(_id(spider, p.id))}</id>\n<title>{_t(p.title or p.id)}</title>\n",
                 f"<updated>{rfc3339(updated)}</updated>\n<published>{rfc3339(e.date)}</published>\n",
                 f"<author><name>{_t(p.author or source)}</name></author>\n",
                 f'<link rel="alternate" type="text/html" href={_a(_href(e.url))}/>\n']
        if p.original and p.original.startswith(("https://", "http://")):
            parts.append(f'<link rel="via" type="text/html" href={_a(p.original)}/>\n')
        parts += [f"<category term={_a(tag)}/>\n" for tag in p.topics]
        if p.lead:
            parts.append(f"<summary>{_t(p.lead)}</summary>\n")
        items.append("".join(parts) + "</entry>\n")
    return _feed(feed_id=_id(spider, "feed"), title=f"{source} · {site_title}",
                 self_url=f"/{spider}/feed.xml", alternate=f"/{spider}/", site_title=site_title,
                 base_url=base_url, updated=latest, entries=items)


def changes_feed(spider: str, source: str, changes: list[Change], entries: dict[str, Entry], *,
                 site_title: str, base_url: str | None = None) -> str:
    """``/<spider>/changes.xml``: the source's newest new versions (``entries``: article id →
    its post, for the title and the link back; a change of an article without a post is left
    out)."""
    dated = [(d, c) for c in changes if c.id in entries and (d := _date(c.crawled))]
    dated.sort(key=lambda dc: (dc[0], dc[1].id, dc[1].version), reverse=True)
    items = []
    # a feed with no change yet is as new as the newest article
    latest = max((e.date for e in entries.values()), default=datetime(1970, 1, 1, tzinfo=UTC))
    for when, c in dated[:FEED_SIZE]:
        e, page = entries[c.id], revision_url(spider, c.id, c.version)
        if page is None:  # an id no page is made for
            continue
        latest = max(latest, when)
        what = f"{c.summary}有改动" if c.summary else "有改动"
        items.append("".join([
            f"<entry>\n<id>{_t(_id(spider, c.id, f':v{c.version}'))}</id>\n",
            f"<title>{_t(f'{e.post.title or e.post.id}（第 {c.version} 版：{what}）')}</title>\n",
            f"<updated>{rfc3339(when)}</updated>\n",
            f"<author><name>{_t(e.post.author or source)}</name></author>\n",
            f'<link rel="alternate" type="text/html" '
            f'href={_a(_href(page))}/>\n',
            f'<link rel="related" type="text/html" href={_a(_href(e.url))}/>\n',
            f"<summary>{_t(f'第 {c.version} 版：{what}')}</summary>\n</entry>\n"]))
    return _feed(feed_id=_id(spider, "changes"), title=f"{source}：修订 · {site_title}",
                 self_url=f"/{spider}/changes.xml", alternate=f"/{spider}/", site_title=site_title,
                 base_url=base_url, updated=latest, entries=items)
