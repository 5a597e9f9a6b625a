"""Build ``tests/mirror/sitemaps/``: robots.txt and sitemaps for both mirrored sites, an
overlay served after ``dw/`` or ``epochtimes/`` (its robots.txt replaces theirs).

The sitemaps list the mirror's own article pages (``<site>/expected.json``), each with a
``<lastmod>`` (the page's update time, else its publication), laid out as real sites lay
them out — robots.txt ``Sitemap:`` lines, a sitemap index, a news sitemap
(``news:news``) for the latest articles, article sitemaps for the rest, one of them gzipped
(``.xml.gz``) — and with what a crawler of one edition must leave alone: sitemaps and
entries of other editions (``/en/``, ``/de/``, ``/zh-hant/``, ``/b5/``), other hosts,
``ftp:``/``file:``/``javascript:`` locations, an index listed inside an index.

Run ``python -m tests.mirror.build_sitemaps`` after changing it; the files are committed.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from xml.sax.saxutils import escape

from tests.mirror.build_dw import ROBOTS_WWW

MIRROR = Path(__file__).resolve().parent
OUT = MIRROR / "sitemaps"
URLSET = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
          ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">')
INDEX = '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
#: articles published since this day are in the news sitemaps, per site
NEWS_SINCE = {"dw": "2024-01-01", "epochtimes": "2023-03-12"}

#: DW's rules as the demo mirror serves them (build_dw.ROBOTS_WWW), then sitemaps of every
#: edition and some a crawler must leave alone
DW_RULES = ROBOTS_WWW.split("\nSitemap:")[0].replace("(offline demo mirror)",
                                                   "(offline mirror, with sitemaps)")
DW_ROBOTS = DW_RULES + """
Sitemap: https://www.dw.com/de/news-sitemap.xml
Sitemap: https://www.dw.com/en/article-sitemap.xml
Sitemap: https://www.dw.com/zh/news-sitemap.xml
Sitemap: /zh/article-sitemap.xml
sitemap: https://sitemaps.example.net/zh/article-sitemap.xml
Sitemap: ftp://www.dw.com/zh/news-sitemap.xml
"""

EPOCHTIMES_ROBOTS = """# robots.txt for https://www.epochtimes.com (offline mirror, with sitemaps)
User-agent: *
Disallow: /gb/search
Disallow: /b5/search

Sitemap: https://www.epochtimes.com/sitemap_index.xml
Sitemap: https://www.epochtimes.com/gb/news-sitemap.xml
Sitemap: https://www.epochtimes.com/b5/news-sitemap.xml
Sitemap: http://evil.example.org/sitemap_index.xml
"""


def served(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """The mirror's routes: each URL to its built file, typed by the file's name."""
    def kind(name: str) -> str:
        if name.endswith(".gz"):
            return "application/x-gzip"
        return "text/plain; charset=utf-8" if name.endswith(".txt") else "application/xml"

    return {url: {"file": name, "content_type": kind(name)} for url, name in files.items()}


def lastmod(item: dict) -> str:
    when = item.get("updated") or item["published"]
    return when if "T" in when else f"{when}T00:00:00Z"


def articles(site: str) -> list[dict]:
    """The mirror's article pages of ``site`` (those it archives, served on its first day),
    newest first."""
    expected = json.loads((MIRROR / site / "expected.json").read_text(encoding="utf-8"))
    served = json.loads((MIRROR / site / "manifest.json").read_text(encoding="utf-8"))
    items = [v for k, v in expected.items() if k.endswith(".html") and isinstance(v, dict)
             and v.get("url") in served and "file" in served[v["url"]]]
    return sorted(items, key=lastmod, reverse=True)


def url_entry(loc: str, modified: str | None = None, news_title: str | None = None) -> str:
    parts = [f"<url><loc>{escape(loc)}</loc>"]
    if modified:
        parts.append(f"<lastmod>{modified}</lastmod>")
    if news_title:
        parts.append("<news:news><news:publication><news:name>mirror</news:name>"
                     "<news:language>zh</news:language></news:publication>"
                     f"<news:publication_date>{modified}</news:publication_date>"
                     f"<news:title>{escape(news_title)}</news:title></news:news>")
    parts.append("</url>")
    return "".join(parts)


def urlset(entries: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + URLSET + "\n" + "\n".join(entries)
            + "\n</urlset>\n").encode()


def index(locs: list[tuple[str, str | None]]) -> bytes:
    body = "\n".join(f"<sitemap><loc>{escape(loc)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "")
                     + "</sitemap>" for loc, m in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{INDEX}\n{body}\n</sitemapindex>\n'.encode()


def entries_of(items: list[dict], news: bool = False) -> list[str]:
    return [url_entry(item["url"], lastmod(item), item["title"] if news else None) for item in items]


#: entries no crawler of the mirror may follow, whatever the edition
HOSTILE = [url_entry("javascript:alert(1)"), url_entry("file:///etc/passwd", "2024-01-01"),
           url_entry("https://www.dw.com.evil.example/zh/x/a-66666666", "2024-01-01")]


def build_dw(files: dict[str, bytes], routes: dict[str, dict]) -> None:
    base = "https://www.dw.com"
    items = articles("dw")
    zh = [i for i in items if "/zh/" in i["url"]]
    hant = [i for i in items if "/zh-hant/" in i["url"]]
    news = [i for i in zh if i["published"] >= NEWS_SINCE["dw"]]
    other_editions = [url_entry(f"{base}/en/germany-rail-fleet/a-68209901", "2024-02-01T08:00:00Z"),
                      url_entry(f"{base}/de/bahn-flotte/a-68209902", "2024-02-01T08:00:00Z")]
    files["dw-news-zh.xml"] = urlset(entries_of(news, news=True) + entries_of(hant[:1], news=True)
                                     + other_editions + HOSTILE)
    old = [i for i in zh if i["published"] < NEWS_SINCE["dw"]]
    files["dw-articles-zh-2023.xml.gz"] = gzip.compress(
        urlset(entries_of([i for i in old if i["published"] >= "2023"]) + other_editions[:1]), mtime=0)
    files["dw-articles-zh-older.xml"] = urlset(entries_of([i for i in old if i["published"] < "2023"]))
    files["dw-articles-zh-archive.xml"] = index([(f"{base}/zh/article-sitemap-2019.xml", None)])
    files["dw-articles-zh.xml"] = index([
        (f"{base}/zh/article-sitemap-older.xml", "2023-03-27T07:41:55Z"),
        (f"{base}/zh/article-sitemap-2023.xml.gz", "2023-12-15T07:55:12Z"),
        (f"{base}/en/article-sitemap-2023.xml", "2024-02-01T08:00:00Z"),
        ("https://sitemaps.example.net/zh/article-sitemap-2023.xml", "2024-02-01T08:00:00Z"),
        (f"{base}/zh/article-sitemap-archive.xml", None)])
    # other editions' sitemaps: served, so that a request for one would be answered
    files["dw-news-de.xml"] = urlset(other_editions[1:])
    files["dw-articles-en.xml"] = urlset(other_editions[:1])
    files["dw-robots.txt"] = DW_ROBOTS.encode()
    routes.update(served({
        f"{base}/robots.txt": "dw-robots.txt",
        f"{base}/zh/news-sitemap.xml": "dw-news-zh.xml",
        f"{base}/zh/article-sitemap.xml": "dw-articles-zh.xml",
        f"{base}/zh/article-sitemap-2023.xml.gz": "dw-articles-zh-2023.xml.gz",
        f"{base}/zh/article-sitemap-older.xml": "dw-articles-zh-older.xml",
        f"{base}/zh/article-sitemap-archive.xml": "dw-articles-zh-archive.xml",
        f"{base}/de/news-sitemap.xml": "dw-news-de.xml",
        f"{base}/en/article-sitemap.xml": "dw-articles-en.xml",
        f"{base}/en/article-sitemap-2023.xml": "dw-articles-en.xml",
    }))


def build_epochtimes(files: dict[str, bytes], routes: dict[str, dict]) -> None:
    base = "https://www.epochtimes.com"
    items = articles("epochtimes")
    gb = [i for i in items if "/gb/" in i["url"]]
    b5 = [i for i in items if "/b5/" in i["url"]]
    news = [i for i in gb if i["published"] >= NEWS_SINCE["epochtimes"]]
    old = [i for i in gb if i["published"] < NEWS_SINCE["epochtimes"]]
    files["et-news-gb.xml"] = urlset(entries_of(news, news=True) + entries_of(b5[:2], news=True) + HOSTILE)
    files["et-news-b5.xml"] = urlset(entries_of(b5, news=True))
    files["et-articles-gb-2023-03.xml.gz"] = gzip.compress(
        urlset(entries_of([i for i in old if i["published"] >= "2023-03"])), mtime=0)
    files["et-articles-gb-older.xml"] = urlset(entries_of([i for i in old if i["published"] < "2023-03"]))
    files["et-articles-b5-2023-03.xml"] = urlset(entries_of(b5))
    files["et-index.xml"] = index([
        (f"{base}/gb/article-sitemap-2023-03.xml.gz", "2023-03-11T14:20:00Z"),
        (f"{base}/b5/article-sitemap-2023-03.xml", "2023-03-15T14:12:05Z"),
        (f"{base}/gb/article-sitemap-older.xml", "2023-02-15T14:12:00Z"),
        ("file:///etc/passwd", None)])
    files["et-robots.txt"] = EPOCHTIMES_ROBOTS.encode()
    routes.update(served({
        f"{base}/robots.txt": "et-robots.txt",
        f"{base}/sitemap_index.xml": "et-index.xml",
        f"{base}/gb/news-sitemap.xml": "et-news-gb.xml",
        f"{base}/b5/news-sitemap.xml": "et-news-b5.xml",
        f"{base}/gb/article-sitemap-2023-03.xml.gz": "et-articles-gb-2023-03.xml.gz",
        f"{base}/gb/article-sitemap-older.xml": "et-articles-gb-older.xml",
        f"{base}/b5/article-sitemap-2023-03.xml": "et-articles-b5-2023-03.xml",
    }))


def main() -> None:
    files: dict[str, bytes] = {}
    routes: dict[str, dict] = {}
    build_dw(files, routes)
    build_epochtimes(files, routes)
    OUT.mkdir(exist_ok=True)
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    manifest = json.dumps(routes, ensure_ascii=False, indent=1) + "\n"
    (OUT / "manifest.json").write_text(manifest, encoding="utf-8")
    print(f"wrote {len(files)} files and {len(routes)} routes to {OUT}")


if __name__ == "__main__":
    main()
