"""Site modules: one module or package per site (URL rules, quirks, page classes).

Each exposes ``SITE``, an instance of :class:`~newscrawl.sites.base.Site`; they are found
here by looking, so adding a site touches no list.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from newscrawl.sites.base import ArticlePage, ParsedPage, ParseError, Site


@cache
def all_sites() -> dict[str, Site]:
    """Every site module's ``SITE``, by name."""
    found: dict[str, Site] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        site = getattr(importlib.import_module(f"{__name__}.{info.name}"), "SITE", None)
        if isinstance(site, Site):
            found[site.name] = site
    return found


def get_site(name: str) -> Site:
    try:
        return all_sites()[name]
    except KeyError:
        raise KeyError(f"unknown site {name!r}; known: {', '.join(sorted(all_sites()))}") from None


__all__ = ["ArticlePage", "ParseError", "ParsedPage", "Site", "all_sites", "get_site"]
