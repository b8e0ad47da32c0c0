"""Running an import-like action (imports, raster statistics): progress bar, log line, printed report, exit code."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import typer

from api.cli.context import connect, current_settings, database_url, migrate
from api.cli.output import err, log, out, progress_bar
from api.errors import exit_code
from geo.errors import KotakuError
from geo.messages import describe, message
from layers.imports.report import ImportFailed, ImportReport


def run_import(action: Callable[..., ImportReport], as_json: bool, **kwargs) -> None:
    url = database_url()
    migrate(url)
    try:
        with connect(url) as conn, progress_bar(not as_json) as progress:
            report = action(conn, progress=progress, **kwargs)
    except ImportFailed as failed:
        log_import(action, failed.report, kwargs.get("tenant"))
        print_report(failed.report, as_json)
        raise typer.Exit(exit_code(failed)) from None
    except KotakuError as error:
        if not as_json:
            raise
        print(json.dumps({"ok": False, **error.as_dict(), "description": describe(error, current_settings().lang)},
                         ensure_ascii=False, indent=2, default=str))
        raise typer.Exit(exit_code(error)) from None
    log_import(action, report, kwargs.get("tenant"))
    print_report(report, as_json)


def log_import(action: Callable[..., ImportReport], report: ImportReport, tenant: str | None) -> None:
    """One line a finished import: what, file, tenant, counts, seconds (INFO when imported, WARNING rejected)."""
    what = action.__name__.removeprefix("import_")
    level = logging.INFO if report.ok else logging.WARNING
    log.log(level, "import %s %s: file=%s tenant=%s read=%d written=%d errors=%d warnings=%d seconds=%.2f",
            what, "done" if report.ok else "rejected", report.file, tenant, report.features_read,
            report.features_written, len(report.errors), len(report.warnings), report.seconds,
            extra={"command": f"import {what}", "file": str(report.file), "tenant": tenant, "ok": report.ok,
                   "read": report.features_read, "written": report.features_written,
                   "errors": len(report.errors), "seconds": round(report.seconds, 3)})


def print_report(report: ImportReport, as_json: bool, shown: int = 50) -> None:
    lang = current_settings().lang
    if as_json:
        print(json.dumps(report.as_dict(lang), ensure_ascii=False, indent=2, default=str))
        return
    console = out if report.ok else err
    verdict = (f"[green]{message('cli.imported', lang)}[/]" if report.ok else
               f"[bold red]{message('cli.rejected', lang)}[/]")
    counts = message("cli.counts", lang, read=report.features_read, written=report.features_written,
                     seconds=f"{report.seconds:.2f}")
    console.print(f"{Path(report.file).name}: {verdict}  {counts}", highlight=False)
    console.print(f"  layer {_shown(report.layer)}  driver {_shown(report.driver)}  crs {_shown(report.source_crs)}",
                  highlight=False)
    if report.fields:
        console.print("  fields: " + ", ".join(f"{k}={v}" for k, v in report.fields.items()), highlight=False)
    for title, problems, style in (("errors", report.errors, "red"), ("repairs", report.repairs, "yellow"),
                                   ("warnings", report.warnings, "yellow")):
        if not problems:
            continue
        console.print(f"  [{style}]{len(problems)} {message(f'cli.{title}', lang)}:[/]")
        for problem in problems[:shown]:
            console.print(f"    - {problem.text(lang)}", highlight=False, markup=False)
        if len(problems) > shown:
            console.print(f"    {message('cli.more', lang, count=len(problems) - shown)}")
    for key, value in report.summary.items():
        console.print(f"  {key}: {_shown(value)}", highlight=False)


def _shown(value: object) -> object:
    """What a person reads for a value a report leaves empty (a CSV has no layer; no decree was replaced): '-',
    never Python's None."""
    return "-" if value is None else value
