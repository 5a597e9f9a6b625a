"""What every newscrawl spider shares: article requests deduplicated on the site id,
parse failures turned into counted drops or one retry, gallery completion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newscrawl.items import Article
from newscrawl.middlewares import OffsiteRedirect
from newscrawl.pipelines.validate import count_drop
from newscrawl.sites import ParseError, Site

#: Parse failures worth a second fetch of the page.
RETRY_PARSE_FAILURES = frozenset({"truncated_page"})


def split_arg(value: str | list[str] | None) -> list[str]:
    """``-a x=a,b`` → ``["a", "b"]`` (a list passes through)."""
    if value is None:
        return []
    values = value if isinstance(value, list) else str(value).split(",")
    return [v.strip() for v in values if v and v.strip()]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def falsy(value: Any) -> bool:
    return str(value).strip().lower() in {"0", "false", "no", "off", ""}


class NewsSpider(scrapy.Spider):
    site: ClassVar[Site]

    def __init__(self, *args: Any, urls: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls = split_arg(urls)
        self.requested_ids: set[str] = set()

    @property
    def output_dir(self) -> str:
        """``NEWSCRAWL_OUTPUT_DIR``, for the ``%(output_dir)s`` of ``FEEDS`` paths."""
        return self.settings.get("NEWSCRAWL_OUTPUT_DIR")

    # ---- requests ------------------------------------------------------------------
    def article_request(self, url: str, explicit: bool = False, **meta: Any) -> scrapy.Request | None:
        """A request for an article page, or ``None`` for other pages and ids already asked for.

        ``explicit`` URLs (given by the user) are fetched even when they carry no id, e.g. a
        short permalink that redirects to the article.
        """
        canonical = self.site.canonical_url(url)
        article_id = self.site.article_id(canonical)
        if article_id is None:
            if not explicit:
                return None
            return scrapy.Request(canonical, callback=self.parse_article, errback=self.article_failed,
                                  meta=meta)
        if article_id in self.requested_ids:
            self.crawler.stats.inc_value("newscrawl/requests/duplicate_id")
            return None
        self.requested_ids.add(article_id)
        self.crawler.stats.inc_value("newscrawl/requests/article")
        return scrapy.Request(canonical, callback=self.parse_article, errback=self.article_failed,
                              meta={"article_id": article_id, **meta})

    def article_requests(self, urls: list[str], explicit: bool = False,
                         **meta: Any) -> Iterator[scrapy.Request]:
        for url in urls:
            request = self.article_request(url, explicit=explicit, **meta)
            if request is not None:
                yield request

    # ---- article pages -------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            count_drop(self.crawler.stats, "not_html", response.url)
            return
        try:
            parsed = self.site.parse(response)
        except ParseError as exc:
            if exc.reason in RETRY_PARSE_FAILURES and not response.meta.get("newscrawl_retried"):
                # a page cut short may come whole the next time: one more try
                self.crawler.stats.inc_value(f"newscrawl/retried/{exc.reason}")
                yield response.request.replace(
                    dont_filter=True,
                    meta={"article_id": response.meta.get("article_id"), "newscrawl_retried": True})
            else:
                count_drop(self.crawler.stats, exc.reason, response.url, str(exc))
            return
        if parsed.gallery_url:
            yield scrapy.Request(parsed.gallery_url, callback=self.complete_gallery,
                                 errback=self.gallery_failed, cb_kwargs={"item": parsed.item},
                                 dont_filter=True)
        else:
            yield parsed.item

    def complete_gallery(self, response: Response, item: Article) -> Iterator[Article]:
        """Take the full captions from the gallery's own page."""
        try:
            gallery = self.site.parse(response).item.gallery
        except ParseError:
            gallery = None
        if gallery and gallery.get("images"):
            item.gallery = gallery
            self.crawler.stats.inc_value("newscrawl/gallery/completed")
        else:
            self.crawler.stats.inc_value("newscrawl/gallery/incomplete")
            self.logger.warning("Gallery page %s gave no captions; keeping the partial gallery of %s",
                                response.url, item.url)
        yield item

    def gallery_failed(self, failure: Failure) -> Iterator[Article]:
        item = failure.request.cb_kwargs["item"]
        self.crawler.stats.inc_value("newscrawl/gallery/incomplete")
        self.logger.warning("Gallery page %s failed (%s); keeping the partial gallery of %s",
                            failure.request.url, failure.getErrorMessage(), item.url)
        yield item

    def article_failed(self, failure: Failure) -> None:
        """A fetch that failed for good (after retries): a counted, logged drop."""
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        elif failure.check(OffsiteRedirect):
            reason = "offsite_redirect"
        elif failure.check(IgnoreRequest):  # e.g. robots.txt
            reason = "ignored_request"
        else:
            reason = f"fetch_failed_{failure.type.__name__}"
        count_drop(self.crawler.stats, reason, failure.request.url, failure.getErrorMessage())
