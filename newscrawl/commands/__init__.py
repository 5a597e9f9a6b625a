"""Project commands (``COMMANDS_MODULE``): ``scrapy crawl`` (checked arguments, an exit status
that says how the run went), ``crawlall``, ``reparse``, ``verify``, ``wacz`` and ``extract``.

What they share lives here: :func:`command_parser` (help headings that stay headings, usage
mistakes as one line naming the command) and :func:`require_warc_files` (a command that reads
an archive says which folder it looked at when there is none).
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand, ScrapyHelpFormatter
from scrapy.crawler import CrawlerProcessBase
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from newscrawl.arguments import usage_exit
from newscrawl.warc import INDEX_NAME, WARC_SUFFIX, warc_dir


class HelpFormatter(ScrapyHelpFormatter):
    """Scrapy's help layout (``Usage`` / ``Options`` headings, underlined), with only the
    section titles as headings: Scrapy's makes one of any line that ends with a colon, so an
    option's help wrapped after ``(default:`` became ``The Wacz To Write (Default`` over a row
    of ``=``. A section title starts its line; an option's help line is indented."""

    def format_part_strings(self, part_strings: list[str]) -> list[str]:
        if part_strings and part_strings[0].startswith("usage: "):
            part_strings[0] = "Usage\n=====\n  " + part_strings[0].removeprefix("usage: ")
        titles = [i for i, part in enumerate(part_strings) if part.endswith(":\n") and not part[:1].isspace()]
        for i in reversed(titles):
            title = part_strings[i].removesuffix(":\n").title()
            rule = "-" if title == "Global Options" else "="
            part_strings[i:i + 1] = [title, f"\n{rule * len(title)}\n"]
        return part_strings


def command_parser(parser: argparse.ArgumentParser, command: str) -> None:
    """Shape Scrapy's parser for ``scrapy <command>``: :class:`HelpFormatter`, and its errors
    (a missing or unknown option, a :class:`~scrapy.exceptions.UsageError`) one line
    ``scrapy <command>: error: …`` with exit status 2, as every usage mistake of the project's
    commands (:func:`newscrawl.arguments.usage_exit`), not ``scrapy: error:`` after the usage."""
    parser.prog = f"scrapy {command}"
    parser.formatter_class = HelpFormatter
    parser.error = functools.partial(usage_exit, command)  # type: ignore[method-assign]


def settings_of(command: ScrapyCommand) -> Settings:
    """The command's settings, which ``scrapy.cmdline`` gives it before it calls any of its
    methods (Scrapy types the attribute as Optional)."""
    if command.settings is None:
        raise RuntimeError(f"{type(command).__name__} run without settings (not through scrapy.cmdline)")
    return command.settings


def process_of(command: ScrapyCommand) -> CrawlerProcessBase:
    """The crawler process ``scrapy.cmdline`` gives a command that ``requires_crawler_process``."""
    if command.crawler_process is None:
        raise RuntimeError(f"{type(command).__name__} run without a crawler process")
    return command.crawler_process


def require_warc_files(settings: Any, spider: str, command: str) -> Path:
    """The spider's WARC folder (:func:`newscrawl.warc.warc_dir`), or a
    :class:`~scrapy.exceptions.UsageError` saying there is nothing for ``command`` (``reparse``,
    ``bundle``) there: which folder was looked at, how to point at another, and the output
    folders below the current one that have the spider's WARC files (``output/demo`` after
    ``make demo``). A folder with a capture index but no WARC file is an archive whose files
    are gone: the command goes on and says what is missing."""
    folder = warc_dir(settings, spider)
    if any(folder.glob(f"*{WARC_SUFFIX}")) or (folder / INDEX_NAME).exists():
        return folder
    output = Path(settings.get("NEWSCRAWL_OUTPUT_DIR"))
    if settings.get("NEWSCRAWL_WARC_DIR"):
        raise UsageError(f"nothing to {command}: no WARC file of {spider} in {folder}/; name the folder that "
                         f"holds <spider>/*.warc.gz with -s NEWSCRAWL_WARC_DIR=<folder>")
    raise UsageError(f"nothing to {command}: no WARC file of {spider} in {folder}/ (the output folder is "
                     f"{output}/); name another with -s NEWSCRAWL_OUTPUT_DIR=<folder>"
                     f"{_elsewhere(output, f'{spider}/warc/*{WARC_SUFFIX}')}")


def require_archive(settings: Any, spider: str, command: str) -> None:
    """A :class:`~scrapy.exceptions.UsageError` when the output folder holds nothing of the
    spider (no ``<output>/<spider>/``, no WARC file): ``scrapy verify`` of ``output/`` after
    ``make demo`` wrote ``output/demo/``, said as :func:`require_warc_files` says it."""
    output = Path(settings.get("NEWSCRAWL_OUTPUT_DIR"))
    if (output / spider).exists() or any(warc_dir(settings, spider).glob(f"*{WARC_SUFFIX}")):
        return
    raise UsageError(f"nothing to {command}: no archive of {spider} in {output / spider}/ (the output "
                     f"folder is {output}/); name another with -s NEWSCRAWL_OUTPUT_DIR=<folder>"
                     f"{_elsewhere(output, f'{spider}/articles.jsonl')}")


def _elsewhere(output: Path, pattern: str) -> str:
    """`` (there are some in output/demo/: -s NEWSCRAWL_OUTPUT_DIR=output/demo)``: the output
    folders one level below ``output`` that have ``pattern`` (``<spider>/…``), or ``""``."""
    depth = pattern.count("/") + 1
    found = dict.fromkeys(str(path.parents[depth - 1]) for path in sorted(output.glob(f"*/{pattern}")))
    return "".join(f" (there are some in {where}/: -s NEWSCRAWL_OUTPUT_DIR={where})" for where in found)
