"""What every command shares for output: the stdout/stderr consoles, the log, the progress bar, and errors
turned into a message and an exit code (api/errors.py)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.errors import exit_code
from geo.errors import KotakuError
from geo.messages import describe, message
from layers.imports.report import ImportFailed

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("kotaku.cli")
_language: dict[str, str] = {}  # the command's --lang / KOTAKU_LANG, set by the root callback (api/cli/root.py)


def set_language(lang: str) -> None:
    """Remember the command's language for an error that ends it after its context has closed."""
    _language["lang"] = lang


def language() -> str:
    return _language.get("lang", "en")


def exit_with_error(error: BaseException) -> NoReturn:
    """Print a project error (or an unavailable database) to stderr and exit with its code."""
    if isinstance(error, KotakuError):
        err.print(f"[bold red]{message('cli.error', language())}:[/] {describe(error, language())}", highlight=False)
        if error.details and not isinstance(error, ImportFailed):
            err.print(json.dumps(error.details, indent=2, ensure_ascii=False, default=str), highlight=False)
    else:
        err.print(f"[bold red]Error:[/] the database is unavailable: {error}", highlight=False)
    sys.exit(exit_code(error))


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr driven by (stage, done, total) callbacks."""
    if not enabled or not err.is_terminal:
        yield lambda stage, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=1)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=max(total, 1))

        yield update
