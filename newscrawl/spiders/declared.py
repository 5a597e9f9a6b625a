"""The spider of a site that says what it is: its arguments and sources from the site's
declarations (:class:`~newscrawl.sites.base.Site`: listings, feeds, editions).

A site's spider names the spider, its site and the ``-a`` argument that picks an edition;
everything else is derived here: one list argument per :class:`~newscrawl.sites.base.Listing`
(checked by :meth:`Site.listing_problem`), ``urls`` (checked by :meth:`Site.article_problem`),
``feed`` (the site's main feed), ``sitemaps`` (where it declares :attr:`Site.sitemaps`), the
edition, ``full``, ``recheck``, ``since`` and ``backfill_pages`` (where it has listings or
sitemaps) and ``optional``, in that order.
"""

from __future__ import annotations

from typing import Any, ClassVar

from newscrawl.arguments import Argument
from newscrawl.sites.base import Listing, Site
from newscrawl.spiders.base import (
    BACKFILL_PAGES,
    FULL,
    OPTIONAL,
    RECHECK,
    SINCE,
    NewsSpider,
    feed_argument,
    sitemaps_argument,
)


def site_arguments(site: Site, edition: Argument | None) -> tuple[Argument, ...]:
    """The ``-a`` arguments a spider of ``site`` takes, derived from what the site declares."""

    def listing_check(listing: Listing) -> Any:
        return lambda value: site.listing_problem(listing, value)

    listings = tuple(Argument(listing.argument, "list", listing.help, check=listing_check(listing),
                              item=listing.item) for listing in site.listings)
    urls = Argument("urls", "list", site.article_help, check=site.article_problem, item="article URLs")
    sitemaps = (sitemaps_argument(site.sitemap_urls()),) if site.sitemaps else ()
    backfill = (SINCE, BACKFILL_PAGES) if site.listings or site.sitemaps else ()
    return (*listings, urls, feed_argument(site.feed_url(), site.allowed_domains), *sitemaps,
            *((edition,) if edition else ()), FULL, RECHECK, *backfill, OPTIONAL)


class SiteSpider(NewsSpider):
    """A spider whose arguments and sources come from its site's declarations."""

    #: the ``-a`` argument that picks the edition (a ``choice`` of the site's editions)
    edition_argument: ClassVar[Argument | None] = None
    allowed_domains: ClassVar[list[str]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "site" in cls.__dict__:
            cls.allowed_domains = cls.site.allowed_domains
            cls.arguments = site_arguments(cls.site, cls.edition_argument)

    @property
    def edition(self) -> str:
        """The edition chosen (else the site's default)."""
        name = self.edition_argument.name if self.edition_argument else None
        return (self.args.get(name) if name else None) or self.site.default_edition

    def choose_sources(self, args: dict[str, Any]) -> None:
        for listing in self.site.listings:
            for value in args[listing.argument] or []:
                self.add_listing(listing.kind, value, self.site.listing_url(listing, value, self.edition))
        if self.site.sitemaps:
            self.choose_sitemaps(args["sitemaps"], self.site.sitemap_urls(self.edition))
        self.feeds = self.choose_feeds(args["feed"], self.site.feed_url(self.edition))

    def resolve_source(self, entry: str) -> list[str]:
        return self.site.listing_urls(entry, self.edition)

    def link_url(self, url: str) -> str:
        """A found link as followed: canonical, and in this run's edition when the site's
        pages are edition twins (a story and its twin are fetched once)."""
        url = self.site.canonical_url(url)
        return self.site.to_edition(url, self.edition) if self.site.edition_twins else url
