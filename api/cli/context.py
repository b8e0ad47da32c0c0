"""The settings the root callback built, and the database helpers built from them that hand them to layers/."""

from __future__ import annotations

import click
from typer._click.globals import get_current_context as typer_context  # typer 0.29 runs its own copy of click

from layers.db import connection as db_connection
from layers.db import schema
from layers.db.cluster import Cluster
from layers.settings import Settings


def current_settings() -> Settings:
    """The settings the callback built for this command (built now when a command runs without it)."""
    context = click.get_current_context(silent=True) or typer_context(silent=True)
    root = context.find_root() if context else None
    if root is None or not isinstance(root.obj, Settings):
        settings = Settings()
        if root is not None:
            root.obj = settings
        return settings
    return root.obj


def database_url(start: bool = True) -> str:
    return db_connection.database_url(current_settings(), start=start)


def configured_url() -> str | None:
    return current_settings().database_url


def connect(url: str, **kwargs):
    settings = current_settings()
    return db_connection.connect(url, app_role=settings.app_role, app_database_url=settings.app_database_url,
                                 **kwargs)


def migrate(url: str | None = None) -> str:
    settings = current_settings()
    return schema.migrate(url or database_url(), settings.app_role, settings.app_database_url)


def reset(url: str | None = None) -> str:
    settings = current_settings()
    return schema.reset(url or database_url(), settings.app_role, settings.app_database_url)


def cluster() -> Cluster:
    return Cluster.from_settings(current_settings())
