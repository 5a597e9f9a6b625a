"""For ``scrapyd-deploy`` (scrapyd-client), which packs the project with ``python setup.py
bdist_egg`` and writes a setup.py of its own when there is none (left behind, untracked).
Everything is declared in pyproject.toml, including the ``scrapy`` entry point through which
scrapyd finds ``newscrawl.settings``."""

from setuptools import setup

setup()
