"""Item pipelines, one concern each: normalise → validate → keep the pictures → deduplicate (then
the post writer).

Each pipeline is a thin Scrapy component around a pure function, so ``scrapy extract``
applies exactly the same normalisation and validation without running a crawl.
"""

from newscrawl.drops import count_drop
from newscrawl.pipelines.dedupe import DedupePipeline
from newscrawl.pipelines.normalize import NormalizePipeline, normalize_article
from newscrawl.pipelines.pictures import PicturesPipeline
from newscrawl.pipelines.validate import ValidatePipeline, validate_article

__all__ = [
    "DedupePipeline",
    "NormalizePipeline",
    "PicturesPipeline",
    "ValidatePipeline",
    "count_drop",
    "normalize_article",
    "validate_article",
]
