"""What a spider asks while it crawls: small policies that decide, components that keep a
run's bookkeeping. The spider (:mod:`newscrawl.spiders.base`) keeps the callbacks and wires
them together.

* :mod:`~newscrawl.crawling.incremental` — whether an article page is worth fetching,
  conditionally or not, and what is due again (decisions on the state and the settings);
* :mod:`~newscrawl.crawling.backfill` — listings and sitemaps walked back to a date
  (``-a since``), with no page cap, remembered in the state;
* :mod:`~newscrawl.crawling.sources` — the run's feeds and listings, which may fail, which did;
* :mod:`~newscrawl.crawling.failures` — the one table of fetch failures: the drop reason of
  an article page, the words for a failed source;
* :mod:`~newscrawl.crawling.galleries` — items waiting for the captions on a gallery's page;
* :mod:`~newscrawl.crawling.throttle` — listings read as their articles drain (the one
  place that looks into Scrapy's engine);
* :mod:`~newscrawl.crawling.reparse` — ``scrapy reparse``'s rounds of captures;
* :mod:`~newscrawl.crawling.browser` — which pages chromium renders, always or as a fallback.

Drops are counted in :mod:`newscrawl.drops`, shared with the pipelines.
"""
