"""Spider arguments and the ``crawlall`` config, checked before anything runs.

Each spider declares its ``-a`` arguments (:class:`Argument`: name, kind, meaning). An
unknown or misspelled name, an empty list, or a value that is not what the argument takes is
an :class:`ArgumentError` whose message is one line naming the valid choices (with a "did
you mean", from :mod:`difflib`). ``scrapy crawl`` and ``scrapy crawlall`` print it and exit
with status 2 before a crawler is made; the spiders check their arguments the same way when
they are made by other means (scrapyd, a script).

:func:`load_config` reads and checks ``crawlall``'s TOML config the same way: sections that
are spiders, keys that exist, arguments each spider takes, settings that exist, with values of
their type.
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

#: Spider arguments that are not the spider's own: scrapyd passes ``_job`` to every spider.
PASSED_BY_RUNNERS = frozenset({"_job"})
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class ArgumentError(ValueError):
    """A spider argument, a setting or the config is wrong; the message is one line."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close and word.lower() != word:
        close = [c for c in choices if c.lower() == word.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_flag(value: Any) -> bool | None:
    """``1/true/yes/on`` → True, ``0/false/no/off`` → False, anything else → None."""
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def http_url(value: str, domains: Iterable[str] = ()) -> str | None:
    """Why ``value`` is not an absolute http(s) URL (on one of ``domains``), or None."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http(s) URL"
    host = parts.hostname.lower()
    domains = list(domains)
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        return f"{value!r} is not on {' or '.join(domains)}"
    return None


@dataclass(frozen=True)
class Argument:
    """One ``-a name=value`` a spider takes.

    ``kind``: ``list`` (comma-separated, at least one item; ``check`` judges each item),
    ``flag`` (1/0, true/false, yes/no, on/off), ``choice`` (one of ``choices``), ``value``
    (one value, judged by ``check``; ``item`` shows its form) or ``feed`` (a flag, or feed
    URLs judged by ``check``). ``check`` returns why an item is wrong.
    """

    name: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    check: Callable[[str], str | None] | None = field(default=None, compare=False)
    #: what one item looks like, for the message on an empty list
    item: str = "values"

    def parse(self, raw: Any) -> Any:
        """The value as the spider uses it (list of str, bool, str), or ArgumentError."""
        text = str(raw).strip()
        if self.kind == "flag":
            flag = parse_flag(text)
            if flag is None:
                raise ArgumentError(
                    f"{self.name} must be 1 or 0 (or true/false, yes/no, on/off), not {text!r}")
            return flag
        if self.kind == "choice":
            for choice in self.choices:
                if text.lower() == choice.lower():
                    return choice
            raise ArgumentError(f"{self.name} must be one of {', '.join(self.choices)}, not {text!r}"
                                + did_you_mean(text, self.choices))
        if self.kind == "value":
            if not text:
                raise ArgumentError(f"{self.name} is empty: give {self.item}")
            if why := self._judge(text):
                raise ArgumentError(f"{self.name}: {why}")
            return text
        if self.kind == "feed":
            flag = parse_flag(text)
            if flag is not None:
                return flag
            if not text:
                raise ArgumentError(f"{self.name} is empty: give 1 (the site's feed), 0 (none) or feed URLs")
            items = self._items(text)
            for item in items:
                if parse_flag(item) is not None:
                    continue
                if "://" not in item:
                    raise ArgumentError(f"{self.name} must be 1, 0 or feed URLs, not {item!r}")
                if why := self._judge(item):
                    raise ArgumentError(f"{self.name} must be 1, 0 or feed URLs: {why}")
            return items
        items = self._items(text)
        if not items:
            raise ArgumentError(f"{self.name} is empty: give one or more comma-separated {self.item}")
        for item in items:
            if why := self._judge(item):
                raise ArgumentError(f"{self.name}: {why}")
        return items

    def _items(self, text: str) -> list[str]:
        return [item.strip() for item in text.split(",") if item.strip()]

    def _judge(self, item: str) -> str | None:
        return self.check(item) if self.check else None


def parse_arguments(spider: str, declared: Iterable[Argument], given: Mapping[str, Any]) -> dict[str, Any]:
    """The given ``-a`` arguments of ``spider``, parsed; every declared name is in the result
    (``None`` when not given). Raises ArgumentError on the first wrong one."""
    by_name = {arg.name: arg for arg in declared}
    for name in given:
        if name not in by_name and name not in PASSED_BY_RUNNERS:
            raise ArgumentError(f"spider {spider} has no argument {name!r}{did_you_mean(name, by_name)}; "
                                f"it takes: {', '.join(by_name)}")
    return {name: (arg.parse(given[name]) if name in given else None) for name, arg in by_name.items()}


def usage_exit(command: str, message: str) -> NoReturn:
    """The one-line answer to a usage or config mistake: ``scrapy <command>: error: …``,
    exit status 2 (no usage text, no traceback)."""
    print(f"scrapy {command}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


# ---- the manual's argument tables --------------------------------------------------------

#: The manual's page with a table of each spider's arguments, between markers.
OPERATIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
#: Where the table of a spider the manual has no section for yet is added (a new section).
NEW_SPIDERS_MARKER = "<!-- arguments:new -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def arguments_table(arguments: Iterable[Argument]) -> str:
    """The Markdown table of a spider's ``-a`` arguments, as the manual shows it: made from the
    declared arguments alone (their names, kinds, choices and help)."""
    rows = ["| argument | meaning |", "|---|---|"]
    for arg in arguments:
        if arg.kind == "list":
            usage, meaning = f"`-a {arg.name}=…`", f"comma-separated {arg.help}"
        elif arg.kind == "flag":
            usage, meaning = f"`-a {arg.name}=1`", arg.help
        elif arg.kind == "choice":
            usage, meaning = f"`-a {arg.name}={'|'.join(arg.choices)}`", arg.help
        elif arg.kind == "value":
            usage, meaning = f"`-a {arg.name}={arg.item}`", arg.help
        else:  # feed
            usage, meaning = f"`-a {arg.name}=1` / `-a {arg.name}=<url>`", arg.help
        rows.append(f"| {_cell(usage)} | {_cell(meaning)} |")
    return "\n".join(rows) + "\n"


def _markers(spider: str) -> tuple[str, str]:
    return (f"<!-- arguments:{spider} (generated: python -m newscrawl.arguments) -->",
            f"<!-- /arguments:{spider} -->")


def documented_tables(text: str, spiders: Mapping[str, Iterable[Argument]]) -> str:
    """``text`` (the manual's page) with each spider's table between its markers rewritten
    from ``spiders`` (name → declared arguments); a spider without markers gets a section
    of its own at :data:`NEW_SPIDERS_MARKER`."""
    for name, arguments in sorted(spiders.items()):
        start, end = _markers(name)
        table = arguments_table(arguments)
        if start in text and end in text:
            before, rest = text.split(start, 1)
            _, after = rest.split(end, 1)
            text = f"{before}{start}\n{table}{end}{after}"
        elif NEW_SPIDERS_MARKER in text:
            section = f"### Spider `{name}`\n\n{start}\n{table}{end}\n\n{NEW_SPIDERS_MARKER}"
            text = text.replace(NEW_SPIDERS_MARKER, section, 1)
        else:
            raise ArgumentError(f"no place for the arguments of {name} ({NEW_SPIDERS_MARKER} is missing)")
    return text


def project_spiders() -> dict[str, tuple[Argument, ...]]:
    """Every spider of the project (Scrapy's spider loader) with its declared arguments."""
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    loader = get_spider_loader(get_project_settings())
    return {name: tuple(getattr(loader.load(name), "arguments", ())) for name in loader.list()}


def main(argv: list[str] | None = None) -> int:
    """``python -m newscrawl.arguments [--check]``: rewrite the spiders' argument tables in
    docs/operations.md from the declared arguments (``--check``: only say whether they differ,
    exit status 1 if they do)."""
    args = sys.argv[1:] if argv is None else argv
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    wanted = documented_tables(text, project_spiders())
    if wanted == text:
        print(f"{OPERATIONS_DOC.name}: the argument tables are up to date")
        return 0
    if "--check" in args:
        print(f"{OPERATIONS_DOC.name}: the argument tables differ from the spiders' declared arguments;"
              " run: python -m newscrawl.arguments", file=sys.stderr)
        return 1
    OPERATIONS_DOC.write_text(wanted, encoding="utf-8")
    print(f"{OPERATIONS_DOC.name}: argument tables rewritten")
    return 0


# ---- settings ---------------------------------------------------------------------------

#: Settings read by add-ons whose names are not all in the defaults (scrapy-playwright).
FOREIGN_PREFIXES = ("PLAYWRIGHT_",)


def check_setting(name: str, value: Any, settings: Any, *, strict: bool) -> None:
    """A setting given by the user: its name must exist (``strict``: any name; otherwise
    only ``NEWSCRAWL_*`` names are checked) and its value must read as the default's type.
    ``settings`` are the project's (Scrapy's defaults included)."""
    if name not in settings:
        ours = name.startswith("NEWSCRAWL_")
        if ours or (strict and not name.startswith(FOREIGN_PREFIXES)):
            choices = [n for n in settings if n.startswith("NEWSCRAWL_") or not ours]
            raise ArgumentError(f"unknown setting {name!r}{did_you_mean(name, choices)}")
        return
    default = settings.get(name)
    text = str(value).strip()
    if isinstance(default, bool):
        if not isinstance(value, bool) and parse_flag(text) is None:
            raise ArgumentError(f"setting {name} must be 1 or 0 (or true/false), not {text!r}")
    elif isinstance(default, int | float):
        try:
            float(text) if isinstance(default, float) else int(text)
        except ValueError:
            kind = "a number" if isinstance(default, float) else "a whole number"
            raise ArgumentError(f"setting {name} must be {kind}, not {text!r}") from None


def check_cli_settings(pairs: Iterable[str], settings: Any) -> None:
    """``-s NAME=VALUE`` options: a misspelled ``NEWSCRAWL_*`` name, or a value that does not
    read as the setting's type, is an ArgumentError (call before the options are applied)."""
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if sep:
            check_setting(name.strip(), value, settings, strict=False)


def check_feed_targets(feeds: Mapping[Any, Any]) -> None:
    """``-o``/``-O`` files (Scrapy's ``FEEDS``) that cannot be written are an ArgumentError,
    found before any request rather than as tracebacks after the crawl archived its articles.
    The folder is created, as Scrapy's file storage would, and a file is made in it and removed
    (a permission check alone would pass for root). URIs of other schemes are left to Scrapy."""
    for key in feeds:
        uri = str(key)
        parts = urlsplit(uri)
        if parts.scheme not in ("", "file"):
            continue
        text = unquote(parts.path) if parts.scheme == "file" else uri
        prefix = text.split("%(", 1)[0]  # a placeholder (%(name)s, %(time)s) is filled in later
        folder = Path(prefix) if prefix.endswith("/") else Path(prefix).parent
        target = Path(text)
        try:
            if "%(" not in text and target.is_dir():
                raise IsADirectoryError(f"{target} is a directory")
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".newscrawl-write-test-"):
                pass
        except OSError as exc:
            raise ArgumentError(f"-o/-O {uri}: cannot write there ({exc.strerror or exc})") from None


# ---- crawlall's config ------------------------------------------------------------------

SECTION_KEYS = {
    "args": "the spider's -a arguments",
    "settings": "-s settings for this spider",
    "expect_articles": "false: every source of this spider is optional",
}


def _arg_text(where: str, value: Any) -> str:
    """A TOML value as the ``-a`` string: true/false → 1/0, numbers, lists joined by commas."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ",".join(str(v) for v in value)
    raise ArgumentError(f"{where} must be a string, a number, true/false or a list of strings, "
                        f"not {type(value).__name__}")


def load_config(path: Path, spiders: Mapping[str, Any], settings: Any) -> dict[str, dict[str, Any]]:
    """``crawlall``'s TOML config, checked: ``{spider: {"args": {...}, "settings": {...},
    "expect_articles": bool}}`` with the args as ``-a`` strings. ``spiders`` maps names to
    spider classes (which check their arguments). Raises ArgumentError (one line)."""
    import tomllib  # here: only crawlall reads a config, every command imports this module

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArgumentError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ArgumentError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArgumentError(f"{path} is not valid TOML: {exc}") from None
    config: dict[str, dict[str, Any]] = {}
    for name, section in data.items():
        if name not in spiders:
            raise ArgumentError(f"{path}: [{name}] is not a spider{did_you_mean(name, spiders)}; "
                                f"the spiders are: {', '.join(sorted(spiders))}")
        if not isinstance(section, dict):
            raise ArgumentError(f"{path}: {name} must be a table ([{name}]), not a value")
        for key in section:
            if key not in SECTION_KEYS:
                raise ArgumentError(f"{path}: [{name}] has no key {key!r}{did_you_mean(key, SECTION_KEYS)}; "
                                    f"a section takes: {', '.join(SECTION_KEYS)}")
        for key in ("args", "settings"):
            if not isinstance(section.get(key, {}), dict):
                raise ArgumentError(f"{path}: [{name}] {key} must be a table, e.g. {key} = {{ ... }}")
        expect = section.get("expect_articles", True)
        if not isinstance(expect, bool):
            raise ArgumentError(f"{path}: [{name}] expect_articles must be true or false, not {expect!r}")
        args = {k: _arg_text(f"{path}: [{name}] args.{k}", v) for k, v in section.get("args", {}).items()}
        try:
            spiders[name].check_arguments(args)
        except ArgumentError as exc:
            raise ArgumentError(f"{path}: [{name}] args: {exc}") from None
        for key, value in section.get("settings", {}).items():
            try:
                check_setting(key, value, settings, strict=True)
            except ArgumentError as exc:
                raise ArgumentError(f"{path}: [{name}] settings: {exc}") from None
        config[name] = {"args": args, "settings": dict(section.get("settings", {})),
                        "expect_articles": expect}
    return config


if __name__ == "__main__":
    raise SystemExit(main())
