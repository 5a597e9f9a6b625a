"""When to fetch an archived article again: a decaying schedule of re-checks.

News is edited most in its first hours and rarely after weeks. An archived article is
fetched again when it reaches the next age in ``NEWSCRAWL_RECHECK_STEPS`` (default
``1h,6h,1d,2d,7d,30d``): a re-check that finds it unchanged moves the next one to the next
age beyond the article's current age (further out each time). A re-check that finds a new
version pulls the next one close again (the first step from now), as one edit often brings
more. Past the last age the article is *settled*: no scheduled re-check (``next_check`` is
``None``), so what the schedule costs a run does not grow with the archive. A settled
article is fetched again only on a signal (a listing or feed showing it under a new title, a
full-text feed whose text changed, a sitemap ``<lastmod>`` or a listing's date later than its
last check) or by the audit (``NEWSCRAWL_AUDIT_BUDGET`` a run, oldest-checked first, or the
whole archive with ``-a recheck=all``): see :mod:`newscrawl.crawling.incremental`.

``NEWSCRAWL_CLOCK`` fixes "now" (an ISO 8601 time) for simulations and tests; unset, it is
the real time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

_STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DEFAULT_STEPS = "1h,6h,1d,2d,7d,30d"


def parse_steps(value: str | Iterable[str]) -> list[timedelta]:
    """``"1h,6h,1d"`` (or a list) → growing timedeltas; raises ValueError on anything else."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    steps = []
    for part in parts:
        match = _STEP.match(str(part))
        if not match:
            raise ValueError(f"not a re-check step: {part!r} (use e.g. 1h, 6h, 1d, 3d, 7d, 30d)")
        steps.append(timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}))
    if not steps or any(b <= a for a, b in pairwise(steps)):
        raise ValueError(f"re-check steps must be given and grow: {value!r}")
    return steps


class Schedule:
    def __init__(self, steps: list[timedelta], clock: datetime | None = None):
        self.steps = steps
        self.clock = clock

    @classmethod
    def from_settings(cls, settings) -> Schedule:
        clock = settings.get("NEWSCRAWL_CLOCK")
        fixed = None
        if clock:
            fixed = datetime.fromisoformat(str(clock).replace("Z", "+00:00"))
            fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
        return cls(parse_steps(settings.get("NEWSCRAWL_RECHECK_STEPS") or DEFAULT_STEPS), fixed)

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)

    def next_check(self, published: datetime | None, checked: datetime, changed: bool) -> datetime | None:
        """When to fetch again an article fetched at ``checked`` (``changed``: it had a new
        version); ``None``: never by the schedule (past the last step: settled).
        ``published`` is when its age counts from (the publication, else its first archiving)."""
        if changed or published is None:
            return checked + self.steps[0]
        age = checked - published
        for step in self.steps:
            if step > age:
                return published + step
        return None

    def due(self, next_check: datetime | None) -> bool:
        """Whether a scheduled re-check is due now (a settled article, ``None``, never is)."""
        return next_check is not None and next_check <= self.now()

    def audit_before(self) -> datetime:
        """The per-run audit takes settled articles last checked this long ago or earlier: one
        last step (an article is audited at most once a last step)."""
        return self.now() - self.steps[-1]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None
