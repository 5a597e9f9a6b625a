"""Both sites over simulated days: new articles every day, edits, a feed and a listing each.

:class:`DailySites` makes, for each simulated day, a mirror overlay (served over the bundled
``dw`` and ``epochtimes`` directories, which give robots.txt and the stylesheets) holding:

* **DW** — synthetic articles of the current template (:func:`build_dw.render_article`, their
  dates in the Apollo state, JSON-LD and metas), the feed (``rss-chi-all``: the newest
  :attr:`~DailySites.feed_size`) and a topic page (``t-`` :data:`DW_TOPIC`: the newest
  :attr:`~DailySites.listing_size`, each teaser with its ``contentDate`` in the page state,
  as DW's are);
* **The Epoch Times** — synthetic articles (copies of a mirror article under new ids, titles
  and dates, :func:`build_epochtimes.render_article`), the full-text feed (``nsc413.xml``, the
  newest :attr:`~DailySites.feed_size`) and the category listing (``nsc413.htm``, two pages of
  :attr:`~DailySites.listing_size`).

Articles appear at times spread over the day before each run; an :class:`Edit` changes an
article's text at a given time (a DW edit is republished: its ``lastPublicationDate``, and so
its listed ``contentDate``, moves to the edit's time, as DW shows edits to readers). Article
pages get the day's sidebar from :class:`~tests.mirror.server.MirrorServer` (``server.day``),
so an unchanged article is never a 304. The simulation itself (runs, counts, checks) is
``benchmarks/simulation.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.mirror import build_dw as D
from tests.mirror import build_epochtimes as E
from tests.mirror import epochtimes_content as EC

#: The simulated topic page of DW (its own id and name; not among the bundled mirror's).
DW_TOPIC = {"id": 69990001, "name": "模拟主题", "teaser": "模拟多日运行的主题页面。"}
DW_TOPIC_URL = f"{D.WWW}/zh/{DW_TOPIC['name']}/t-{DW_TOPIC['id']}"
DW_FEED_URL = D.FEED_URL
ET_FEED_URL = E.FEED_URL
ET_CATEGORY = "nsc413"
#: The Epoch Times article every synthetic one is made from, and its id's numbers.
ET_TEMPLATE = "n13954402"
ET_FIRST_ID = 14100000
#: New York keeps summer time through the simulated weeks (May).
EDT = timedelta(hours=-4)
#: The crawl arguments of each spider: its feed and one listing.
SOURCES = {
    "dw": ("-a", "feed=1", "-a", f"topics={DW_TOPIC_URL}"),
    "epochtimes": ("-a", "feed=1", "-a", f"categories={ET_CATEGORY}"),
}


@dataclass(frozen=True)
class Edit:
    """A change to an article's text at ``when``: ``sentence`` added to its first paragraph."""

    site: str
    index: int
    when: datetime
    sentence: str


@dataclass
class Article:
    """One simulated article: its site, number (0, 1, …), publication time and edits."""

    site: str
    index: int
    published: datetime
    edits: list[Edit] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"a-{D.BENCH_FIRST_ID + self.index}" if self.site == "dw" else f"n{ET_FIRST_ID + self.index}"

    def edits_by(self, when: datetime) -> list[Edit]:
        return [e for e in self.edits if e.when <= when]

    def modified(self, when: datetime) -> datetime:
        """When the article as shown at ``when`` was last published or edited."""
        done = self.edits_by(when)
        return done[-1].when if done else self.published


def iso_ms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def new_york(when: datetime) -> str:
    """The Epoch Times' wall-clock time (``YYYY-mm-dd HH:MM:SS``, New York summer time)."""
    return (when.astimezone(UTC) + EDT).strftime("%Y-%m-%d %H:%M:%S")


class DailySites:
    """The two simulated sites: ``backlog`` articles each in the days before day 1, ``per_day``
    more each day, and ``edits``; the run of day ``d`` is at :meth:`clock` ``(d)``."""

    def __init__(self, start: datetime, *, days: int = 10, backlog: int = 12, per_day: int = 3,
                 feed_size: int = 8, listing_size: int = 15, edits: list[tuple[str, int, float]] = ()):
        self.start, self.days = start, days
        self.feed_size, self.listing_size = feed_size, listing_size
        self.articles: dict[str, list[Article]] = {}
        for site in ("dw", "epochtimes"):
            # the backlog over the four days before day 1, then per_day a day, each an hour
            # apart and an hour or more before the day's run
            times = [start - timedelta(days=4) + timedelta(hours=8 * k + 1) for k in range(backlog)]
            for day in range(2, days + 1):
                times += [self.clock(day) - timedelta(hours=3 + 5 * k, minutes=17 * k)
                          for k in range(per_day)]
            self.articles[site] = [Article(site, i, when) for i, when in enumerate(sorted(times))]
        for site, index, day in edits:
            if day > days or index >= len(self.articles[site]):
                continue  # a shorter simulation
            article = self.articles[site][index]
            when = self.clock(1) + timedelta(days=day - 1)
            sentence = f"（更新{len(article.edits) + 1}：本文于模拟第{day:g}天修订。）"
            article.edits.append(Edit(site, index, when, sentence))
            assert when > article.published, (site, index, day)
        self._dw = D.Site(extra_articles=len(self.articles["dw"]))
        self._et = E.Site()
        self._et_template = next(a for a in EC.ARTICLES if a["id"] == ET_TEMPLATE)

    def clock(self, day: int) -> datetime:
        """The time of day ``day``'s run (06:00 UTC; day 1 is ``start``)."""
        return self.start + timedelta(days=day - 1)

    def published_by(self, site: str, when: datetime) -> list[Article]:
        """The site's articles published by ``when``, newest first."""
        return sorted((a for a in self.articles[site] if a.published <= when), key=lambda a: a.published,
                      reverse=True)

    def all_edits(self) -> list[Edit]:
        edits = [e for articles in self.articles.values() for a in articles for e in a.edits]
        return sorted(edits, key=lambda e: e.when)

    # ---- DW ------------------------------------------------------------------------------
    def _dw_art(self, article: Article, when: datetime) -> dict:
        art = copy.deepcopy(self._dw.extra[article.index])
        art["first"] = iso_ms(article.published)
        art["last_pub"] = iso_ms(article.modified(when))
        art["modified"] = iso_ms(article.modified(when) + timedelta(minutes=2))
        kind, text = art["body"][0]
        art["body"][0] = (kind, text + "".join(e.sentence for e in article.edits_by(when)))
        return art

    def _dw_day(self, when: datetime, out: Path, manifest: dict) -> None:
        shown = self.published_by("dw", when)
        for article in shown:
            self._dw.articles[D.BENCH_FIRST_ID + article.index] = self._dw_art(article, when)
        for article in shown:
            page, _ = D.render_article(self._dw, self._dw.articles[D.BENCH_FIRST_ID + article.index])
            name = f"pages/{article.id}.html"
            (out / name).write_text(page, encoding="utf-8")
            manifest[self._dw.url_of(D.BENCH_FIRST_ID + article.index)] = {"file": name,
                                                                           "content_type": D.HTML_TYPE}
        ids = [D.BENCH_FIRST_ID + a.index for a in shown[:self.listing_size]]
        (out / "pages/dw-topic.html").write_text(
            D.render_topic_page(self._dw, DW_TOPIC, ids, extra_links=False), encoding="utf-8")
        manifest[DW_TOPIC_URL] = {"file": "pages/dw-topic.html", "content_type": D.HTML_TYPE}
        items = []
        for article in shown[:self.feed_size]:
            art = self._dw.articles[D.BENCH_FIRST_ID + article.index]
            link = f"{D.WWW}{D.enc(self._dw.path_of(art['id']))}?{D.MACA}"
            items.append(f"<item><title>{D.esc(art['title'])}</title><link>{D.esc(link)}</link>"
                         f"<description>{D.esc(art['teaser'])}</description>"
                         f"<pubDate>{format_datetime(article.published, usegmt=True)}</pubDate>"
                         f'<guid isPermaLink="false">{art["id"]}</guid></item>')
        feed = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                "<title>德国之声中文网 | DW</title><link>https://www.dw.com/zh/</link>"
                f"<description>德国之声中文网</description>{''.join(items)}</channel></rss>\n")
        (out / "dw-feed.xml").write_text(feed, encoding="utf-8")
        manifest[DW_FEED_URL] = {"file": "dw-feed.xml", "content_type": "application/rss+xml; charset=utf-8"}

    # ---- The Epoch Times -----------------------------------------------------------------
    def _et_art(self, article: Article, when: datetime) -> dict:
        art = copy.deepcopy(self._et_template)
        local = new_york(article.published)
        art["id"], art["key"], art["pub"] = article.id, f"S{article.index}", local
        year, month, day = local[:10].split("-")
        art["date"] = f"{int(year) % 100}/{int(month)}/{int(day)}"
        done = article.edits_by(when)
        art["mod"] = new_york(done[-1].when) if done else None
        v = art["gb"]
        v["title"] = f"{self._et_template['gb']['title']}（模拟之{article.index + 1}）"
        v["body"] = list(v["body"])
        v["body"][0] = v["body"][0] + "".join(e.sentence for e in done)
        art.pop("b5", None)
        return art

    def _et_day(self, when: datetime, out: Path, manifest: dict, day: int) -> None:
        shown = self.published_by("epochtimes", when)
        arts = [self._et_art(a, when) for a in shown]
        for art in arts:
            page, _ = E.render_article(self._et, art, "gb", day)
            name = f"pages/{art['id']}-gb.html"
            (out / name).write_text(page, encoding="utf-8")
            manifest[self._et.url(art)] = {"file": name, "content_type": E.HTML_TYPE}
        entries = [E.entry(self._et, art, day) for art in arts[:2 * self.listing_size]]
        pages = E.chunks(entries, self.listing_size)
        for n in range(1, len(pages) + 1):
            name = f"pages/et-category-{n}.html"
            (out / name).write_text(E.render_category_page(self._et, n, pages, day), encoding="utf-8")
            manifest[E.WWW + E.category_page_path(n)] = {"file": name, "content_type": E.HTML_TYPE}
        feed = self._et_feed(arts[:self.feed_size], day)
        (out / "et-feed.xml").write_text(feed, encoding="utf-8")
        manifest[ET_FEED_URL] = {"file": "et-feed.xml", "content_type": E.RSS_TYPE}

    def _et_feed(self, arts: list[dict], day: int) -> str:
        items = []
        for art in arts:
            v = self._et.version(art, "gb", day)
            url = self._et.url(art)
            body, _ = E.body_html(self._et, art, v, "gb", url, "feed")
            items.append(f"<item><title>{E.esc(v['title'])}</title><link>{url}</link>"
                         f'<guid isPermaLink="true">{url}</guid>'
                         f'<pubDate>{E.When(art["pub"]).rfc822()}</pubDate>'
                         f"<content:encoded><![CDATA[{body}]]></content:encoded></item>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                f"<title>大陆新闻 - 大纪元</title><link>{E.WWW}/gb/nsc413.htm</link>"
                f"<description>大纪元 大陆新闻 全文</description>{''.join(items)}</channel></rss>\n")

    # ---- a day's overlay -------------------------------------------------------------------
    def build(self, day: int, root: Path) -> Path:
        """The mirror overlay of day ``day`` (the sites as they are at its run), under ``root``."""
        out = root / f"day{day:02d}"
        (out / "pages").mkdir(parents=True, exist_ok=True)
        manifest: dict[str, dict] = {}
        when = self.clock(day)
        self._dw_day(when, out, manifest)
        self._et_day(when, out, manifest, day)
        (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        return out
