"""Fetch failures, read once: what an exception means for an article page (the drop reason,
``newscrawl/dropped/<reason>``) and for a feed or listing (the words of its
``Source failed:`` warning), in one table.
"""

from __future__ import annotations

from dataclasses import dataclass

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newscrawl.middlewares import OffsiteRedirect, RedirectLoop, TooManyRedirects
from newscrawl.replay import NotCaptured
from newscrawl.transport import RenderTimeout, RenderUnavailable

#: how a source reads when Scrapy (or a middleware) chose not to fetch it
NOT_FETCHED = "was not fetched ({message_or_robots})"

#: exception → (drop reason of an article page, how a failed source reads); the first row
#: the failure is an instance of counts, and :data:`OTHER_FAILURE` when none is.
#: ``{status}`` is an HTTP error's status, ``{type}`` the exception's class name,
#: ``{message}`` its message.
FAILURES: tuple[tuple[type[BaseException], str, str], ...] = (
    (HttpError, "http_{status}", "answered HTTP {status}"),
    (OffsiteRedirect, "offsite_redirect", "redirected off the site"),
    (RedirectLoop, "redirect_loop", NOT_FETCHED),
    (TooManyRedirects, "too_many_redirects", NOT_FETCHED),
    (RenderUnavailable, "render_unavailable", NOT_FETCHED),
    (RenderTimeout, "render_timeout", NOT_FETCHED),
    (NotCaptured, "not_captured", NOT_FETCHED),
    (IgnoreRequest, "ignored_request", NOT_FETCHED),  # e.g. robots.txt
)
#: any other failure (a DNS error, a refused connection, a timeout…)
OTHER_FAILURE = ("fetch_failed_{type}", "could not be fetched ({type}: {message})")

#: Parse failures worth a second plain fetch of the page (never a rendering: a browser
#: would close the cut-off markup and hide the damage).
RETRY_PARSE_FAILURES = frozenset({"truncated_page"})


@dataclass(frozen=True)
class FetchFailure:
    """What a failed fetch means: ``reason`` drops an article page, ``text`` ends the
    warning about a failed source (``answered HTTP 404``)."""

    reason: str
    text: str


def fetch_failure(failure: Failure) -> FetchFailure:
    """Read a Scrapy errback's failure through :data:`FAILURES`."""
    message = failure.getErrorMessage()
    fields = {
        "status": failure.value.response.status if failure.check(HttpError) else "",
        "type": failure.type.__name__ if failure.type else "Exception",
        "message": message,
        "message_or_robots": message or "forbidden by robots.txt",
    }
    reason, text = next(((reason, text) for exception, reason, text in FAILURES if failure.check(exception)),
                        OTHER_FAILURE)
    return FetchFailure(reason.format(**fields), text.format(**fields))


def failed_request(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets ``failure.request``)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def worth_a_second_fetch(reason: str, meta: dict) -> bool:
    """A page whose parse failed for ``reason`` is fetched once more, plainly: it may come
    whole the next time (``truncated_page``), unless this was that second fetch."""
    return reason in RETRY_PARSE_FAILURES and not meta.get("newscrawl_retried")
