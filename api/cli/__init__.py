"""The `kotaku` command line: a thin adapter over layers/ (the HTTP API calls the same functions).

root.py holds the typer app and its settings callback; each command module adds its commands to it when imported,
and the import order below is the order `kotaku --help` lists them in. Shared: context.py (settings and database),
output.py (consoles, progress bar, errors to exit codes), reports.py (running and reporting an import).
"""

from __future__ import annotations  # noqa: I001  (the command modules below are imported in help order)

from api.cli import serve, db, demo, imports, decrees, users, scoring, exports, tiles  # noqa: F401
from api.cli import regions  # noqa: F401  (after imports in help order)
from api.cli import assets  # noqa: F401  (asset and group commands)
from api.cli import plans  # noqa: F401  (plan and budget commands)
from api.cli import cache  # noqa: F401  (shared HTTP cache bans)
from api.cli import batch  # noqa: F401  (Dask batch jobs)
from api.cli import basemap  # noqa: F401  (the basemap, issue 13)
from api.cli.output import exit_with_error
from api.cli.root import app
from api.errors import DATABASE_UNAVAILABLE
from geo.errors import KotakuError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except KotakuError as error:
        exit_with_error(error)
    except DATABASE_UNAVAILABLE as error:
        exit_with_error(error)
