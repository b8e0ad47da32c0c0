"""`kotaku regions remove|replace`: take back a wrongly loaded boundary (layers/imports/region_removal.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from api.cli.context import connect, current_settings, database_url, migrate
from api.cli.output import out
from api.cli.root import app
from geo.messages import message

regions_app = typer.Typer(help="Remove or replace loaded boundaries (with an undo file).", no_args_is_help=True)
app.add_typer(regions_app, name="regions")


def _undo_path(given: Path | None) -> Path:
    if given is not None:
        return given
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return current_settings().var_dir / "undo" / f"regions-{stamp}.gpkg"


def _print(removal, as_json: bool, verb: str) -> None:
    """The result in the command's language (--lang, KOTAKU_LANG); `verb`: removed or replaced."""
    data = removal.as_dict()
    lang = current_settings().lang
    levels = ", ".join(f"{n} {level}" for level, n in removal.by_level.items()) or "-"
    if as_json:
        print(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=2, default=str))
        return
    if not removal.removed:
        out.print(message("cli.regions_would_remove", lang, count=len(removal.codes), levels=levels,
                          codes=", ".join(data["codes"])), highlight=False)
    else:
        out.print(message(f"cli.regions_{verb}", lang, count=len(removal.codes), levels=levels), highlight=False)
        if removal.codes:
            out.print("  " + ", ".join(data["codes"]), highlight=False)
    from layers.imports.region_removal import DEPENDENTS

    uses = ", ".join(f"{removal.dependents[label]} {message(f'dependent.{table}', lang)}"
                     for table, _, label in DEPENDENTS if removal.dependents.get(label)) or "-"
    out.print("  " + message("cli.regions_used_by", lang, uses=uses), highlight=False)
    if removal.undo_file:
        out.print("  " + message("cli.undo", lang, command=f"kotaku import regions {removal.undo_file}"),
                  highlight=False)


@regions_app.command("remove")
def remove_command(
    codes: list[str] = typer.Argument(..., help="Kemendagri codes, e.g. 12.71 or 12.71.01.1001"),
    only: bool = typer.Option(False, "--only", help="Only these codes, not the regions below them"),
    force: bool = typer.Option(False, "--force", help="Remove even when slum areas, survey units or activities "
                                                      "use the codes (they keep the codes)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go and what uses it; remove nothing"),
    undo_file: Path = typer.Option(None, "--undo-file", help="Where the removed regions are saved "
                                                             "(default var/undo/regions-<time>.gpkg)"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Remove loaded regions (and those below them); says what goes and what uses it, refuses when something
    does unless --force; the removed regions are saved first to a file `kotaku import regions` loads back."""
    from layers.imports.region_removal import remove_regions

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        removal = remove_regions(conn, codes, undo_file=_undo_path(undo_file), children=not only, force=force,
                                 dry_run=dry_run)
    _print(removal, as_json, "removed")


@regions_app.command("replace")
def replace_command(
    file: Path = typer.Argument(..., help="The right boundary file (any format `kotaku import regions` reads)"),
    within: str = typer.Option(..., "--within", help="The region it replaces, e.g. 12.71: every region below it "
                                                     "that the file lacks is removed"),
    force: bool = typer.Option(False, "--force", help="Replace even when rows use regions the file lacks"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. code=KD_DESA,name=NAMA"),
    undo_file: Path = typer.Option(None, "--undo-file", help="Where the regions as they were are saved "
                                                             "(default var/undo/regions-<time>.gpkg)"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Load FILE in place of the regions below --within, in one transaction (all-or-nothing); regions the file
    lacks are removed (refused when rows use them, unless --force). Undo: kotaku regions replace UNDO_FILE --within."""
    from layers.imports.region_removal import replace_regions

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        removal = replace_regions(conn, file, within=within, undo_file=_undo_path(undo_file), force=force,
                                  layer=layer, field_map=field_map)
    _print(removal, as_json, "replaced")
