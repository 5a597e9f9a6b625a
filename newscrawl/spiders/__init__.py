"""Spiders: thin. They choose what to fetch; site modules parse, pipelines do the rest."""
