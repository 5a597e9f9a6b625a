"""Settings that switch off per-response work of Scrapy's keep what that work protected.

``STATS_CLASS`` is Scrapy's in-memory collector without its per-access wrapper
(newscrawl.extensions.StatsCollector): it keeps every stats method's behaviour.

``WARN_ON_GENERATOR_RETURN_VALUE`` is off (settings.py: Scrapy re-parsed a callback's source
for every response). What it checked is checked here instead, once: no generator callback of
any spider returns a value, which Scrapy would silently drop.
"""

from __future__ import annotations

import inspect

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings

from newscrawl import settings

SPIDERS = SpiderLoader.from_settings(get_project_settings())
CALLBACKS = sorted({(name, attr) for name in SPIDERS.list()
                    for attr, value in inspect.getmembers(SPIDERS.load(name), inspect.isfunction)
                    if attr.startswith(("parse", "start")) or attr.endswith("_failed")})


def test_the_check_is_off_in_crawls():
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False


def test_every_spider_has_its_callbacks_here():
    names = {attr for _, attr in CALLBACKS}
    assert {"parse_article", "parse_listing", "parse_feed"} <= names
    assert {name for name, _ in CALLBACKS} == set(SPIDERS.list()) >= {"dw", "epochtimes"}


@pytest.mark.parametrize(("spider", "callback"), CALLBACKS)
def test_no_generator_callback_returns_a_value(spider, callback):
    function = getattr(SPIDERS.load(spider), callback)
    assert not is_generator_with_return_value(function), f"{spider}.{callback} returns a value"


def test_the_check_does_catch_a_generator_returning_a_value():
    def callback(response):
        yield response
        return "lost"

    assert is_generator_with_return_value(callback)


def test_no_setting_is_assigned_twice_in_the_settings_module():
    """A second ``SPIDER_MIDDLEWARES = {…}`` further down silently replaced the first (two
    branches each added one): every top-level setting is assigned once."""
    import ast
    import collections

    from tests.crawl import REPO

    tree = ast.parse((REPO / "newscrawl" / "settings.py").read_text(encoding="utf-8"))
    names = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
             if isinstance(t, ast.Name) and t.id.isupper()]
    assert [n for n, count in collections.Counter(names).items() if count > 1] == []


def test_the_stats_collector_is_scrapys_without_the_wrapper():
    """Every stats method does what Scrapy's does (the ``spider`` argument still accepted),
    and reading an attribute runs no Python code of the collector's (what made Scrapy's
    increment ~40 times dearer)."""
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    ours_class = load_object(settings.STATS_CLASS)
    assert issubclass(ours_class, MemoryStatsCollector)
    assert ours_class.__getattribute__ is object.__getattribute__
    assert MemoryStatsCollector.__getattribute__ is not object.__getattribute__  # what it leaves out
    results = []
    for cls in (MemoryStatsCollector, ours_class):
        stats = cls(get_crawler())
        stats.open_spider()
        stats.inc_value("a")
        stats.inc_value("a", 2)
        stats.inc_value("b", start=10)
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 3)
        stats.min_value("n", 1)
        stats.set_value("s", "x")
        results.append((dict(stats.get_stats()), stats.get_value("a"), stats.get_value("none", 7)))
    assert results[0] == results[1] == ({"a": 3, "b": 11, "m": 3, "n": 1, "s": "x"}, 3, 7)
