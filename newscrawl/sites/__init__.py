"""Site modules: URL rules and article parsers, one module per site."""

from newscrawl.sites.base import ParsedPage, ParseError, Site
from newscrawl.sites.dw import SITE as DW_SITE
from newscrawl.sites.epochtimes import SITE as EPOCHTIMES_SITE

SITES: dict[str, Site] = {site.name: site for site in (DW_SITE, EPOCHTIMES_SITE)}


def get_site(name: str) -> Site:
    try:
        return SITES[name]
    except KeyError:
        raise KeyError(f"unknown site {name!r}; known: {', '.join(sorted(SITES))}") from None


__all__ = ["SITES", "ParseError", "ParsedPage", "Site", "get_site"]
