"""``scrapy export <spider|all> [--format parquet|jsonl] [--versions] [--since DATE] [-o PATH]``:
the archive as a dataset (:mod:`newscrawl.export`).

Writes the latest version of every article of the spider (``all``: of every spider with an
archive), or every version with ``--versions``, as Parquet (the schema of
:func:`newscrawl.export.arrow_schema`, documented in docs/formats.md; needs pyarrow, the
``export`` extra) or as JSON lines (the archive's own lines, byte for byte). ``--since`` keeps
the versions published at or after a date. The default file is
``<output>/exports/<spider|all>[-versions].<format>``; ``-o -`` writes JSON lines to stdout.

One line on stdout says what was written (on stderr with ``-o -``). A usage mistake (an
unknown spider, a wrong option or date, no archive there) is one line on stderr and exit
status 2; pyarrow missing or a file that cannot be read or written, one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.arguments import ArgumentError, check_cli_settings, did_you_mean, usage_exit
from newscrawl.commands import command_parser, require_archive, settings_of
from newscrawl.export import FORMATS, export
from newscrawl.files import TMP_PREFIX
from newscrawl.text import parse_datetime

EXTENSIONS = {".parquet": "parquet", ".jsonl": "jsonl"}


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider|all> [--format parquet|jsonl] [--versions] [--since DATE] [-o PATH]"

    def short_desc(self) -> str:
        return "Export the archive (latest or every version) as Parquet or JSON lines"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "export")
        parser.add_argument("--format", choices=FORMATS,
                            help="parquet (needs pyarrow: pip install -e '.[export]') or jsonl "
                                 "(default: from -o's suffix, else parquet)")
        parser.add_argument("--versions", action="store_true",
                            help="every archived version of each article, not only the latest")
        parser.add_argument("--since", metavar="DATE",
                            help="only versions published at or after DATE (YYYY-MM-DD or ISO 8601 time; "
                                 "UTC unless it says otherwise)")
        parser.add_argument("-o", "--output", metavar="PATH",
                            help="the file to write (default: <output>/exports/<spider|all>[-versions]"
                                 ".<format>); - for JSON lines on stdout")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            check_cli_settings(opts.set, settings_of(self))
        except ArgumentError as exc:
            usage_exit("export", str(exc))
        super().process_options(args, opts)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        settings = settings_of(self)
        for arg in args:  # Scrapy parses the options with parse_known_args: the rest come here
            if arg.startswith("-") and arg != "-":
                options = ("--format", "--versions", "--since", "--output")
                raise UsageError(f"unknown option {arg!r}{did_you_mean(arg.split('=')[0], options)}")
        if len(args) != 1:
            raise UsageError("give one spider, or all")
        names = sorted(get_spider_loader(settings).list())
        if args[0] != "all" and args[0] not in names:
            raise UsageError(f"unknown spider {args[0]!r}{did_you_mean(args[0], [*names, 'all'])}; "
                             f"give one of {', '.join(names)}, or all")
        since = self._since(opts.since)
        fmt = self._format(opts.format, opts.output)
        output = Path(settings.get("NEWSCRAWL_OUTPUT_DIR"))
        if args[0] == "all":
            spiders = [name for name in names if (output / name).exists()]
            if not spiders:
                raise UsageError(f"nothing to export: no archive of {', '.join(names)} in {output}/; "
                                 f"name another folder with -s NEWSCRAWL_OUTPUT_DIR=<folder>")
        else:
            require_archive(settings, args[0], "export")
            spiders = [args[0]]
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                return self._fail("pyarrow is not installed: pip install -e '.[export]' "
                                  "(or --format jsonl)")
        target = None if opts.output == "-" else Path(
            opts.output or output / "exports" / f"{args[0]}{'-versions' if opts.versions else ''}.{fmt}")
        jsonls = {name: output / name / "articles.jsonl" for name in spiders}
        if target is not None and any(target.resolve() == jsonl.resolve() for jsonl in jsonls.values()):
            raise UsageError(f"-o {target} is the archive's own JSON lines: give another file")
        try:
            counts = export(jsonls, target, fmt, versions=opts.versions, since=since,
                            stdout=sys.stdout.buffer)
        except OSError as exc:
            # the file that failed, unless it is the one being written (under its temporary name)
            where = f" {exc.filename}:" if exc.filename and TMP_PREFIX not in str(exc.filename) else ""
            return self._fail(f"cannot export to {target or 'stdout'}:{where} {exc.strerror or exc}")
        what = "every version" if opts.versions else "the latest version of each article"
        since_ = f" published since {opts.since}" if opts.since else ""
        per = ", ".join(f"{name} {counts.rows[name]} rows of {counts.articles[name]} articles"
                        for name in spiders)
        bad = f"; {counts.bad_lines} lines that are no article skipped" if counts.bad_lines else ""
        size = f", {target.stat().st_size} bytes" if target else ""
        rows = sum(counts.rows.values())
        print(f"{target or 'stdout'}: {rows} rows ({what}{since_}): {per}{bad}; {fmt}{size}",
              file=sys.stderr if target is None else sys.stdout)

    @staticmethod
    def _since(value: str | None) -> datetime | None:
        if value is None:
            return None
        when = parse_datetime(value) if value[:4].isdigit() else None
        if when is None:
            raise UsageError(f"--since {value!r} is not a date: give YYYY-MM-DD or an ISO 8601 time")
        return when

    @staticmethod
    def _format(fmt: str | None, output: str | None) -> str:
        suffix = Path(output).suffix.lower() if output and output != "-" else ""
        implied = EXTENSIONS.get(suffix)
        if output == "-":
            if fmt == "parquet":
                raise UsageError("-o - writes JSON lines: give a file for Parquet")
            return "jsonl"
        if fmt and implied and fmt != implied:
            raise UsageError(f"--format {fmt} but -o names a {suffix} file")
        return fmt or implied or "parquet"

    def _fail(self, message: str) -> None:
        print(f"scrapy export: {message}", file=sys.stderr)
        self.exitcode = 1
