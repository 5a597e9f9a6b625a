"""Drops: a page or item that gives nothing to archive is counted and logged, in one place.

Every drop — a spider's (a fetch that failed, a page no layout parses), a pipeline's (an
invalid item, a duplicate), a middleware's (an over-long URL) — goes through
:func:`count_drop`: the stat ``newscrawl/dropped/<reason>`` (which the run summary lists)
and one WARNING line on the ``newscrawl.drops`` logger.
"""

from __future__ import annotations

import logging

from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def count_drop(stats: StatsCollector | None, reason: str, url: str | None, detail: str = "") -> None:
    """The one place a drop is counted (``newscrawl/dropped/<reason>``) and logged."""
    if stats is not None:
        stats.inc_value(f"newscrawl/dropped/{reason}")
    logger.warning("Dropped %s: %s%s", url or "<no url>", reason, f" ({detail})" if detail else "")
