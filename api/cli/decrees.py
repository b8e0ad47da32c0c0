"""`kotaku decree history|restore`: the versions a decree's slum areas were replaced from, and bringing one back."""

from __future__ import annotations

import json

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import out
from api.cli.root import app

decree_app = typer.Typer(help="Decree (SK Kumuh) versions: what a --replace or a restore took away.",
                         no_args_is_help=True)
app.add_typer(decree_app, name="decree")


@decree_app.command("history")
def decree_history_command(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 73.07 or 7307"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the tenant's only decree with versions)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """List a decree's current areas and every replaced version (newest first)."""
    from layers.imports.decree_versions import decree_history

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        history = decree_history(conn, tenant, decree)
    if as_json:
        print(json.dumps(history, ensure_ascii=False, indent=2, default=str))
        return
    current = history["current"]
    out.print(f"decree {history['decree']} ({history['tenant']}): now {current['areas']} areas, "
              f"{current['area_ha']} ha", highlight=False)
    if not history["versions"]:
        out.print("  no replaced versions", highlight=False)
    for v in history["versions"]:
        restored = f", restored {v['restored_at'][:19]}" if v["restored_at"] else ""
        actor = f" ({v['actor']})" if v["actor"] else ""
        out.print(f"  version {v['version']}: {v['areas']} areas, {v['area_ha']} ha, kawasan "
                  f"{', '.join(v['kawasan']) or '-'}; replaced {v['replaced_at'][:19]} by {v['replaced_by']}"
                  f"{actor}{restored}", highlight=False, markup=False)


@decree_app.command("restore")
def decree_restore_command(
    version: int = typer.Argument(..., help="Version number from 'kotaku decree history'"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the tenant's only decree with versions)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Bring back a replaced version of a decree's areas; the current areas become a new version (undoable)."""
    from layers.imports.decree_versions import restore_version

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        result = restore_version(conn, tenant, version, decree=decree)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    gone = result["replaced"]
    out.print(f"decree {result['decree']} ({result['tenant']}): restored version {result['restored_version']} "
              f"({result['restored_areas']} areas); survey units linked back {result['survey_units_linked_back']}, "
              f"activities linked back {result['activities_linked_back']}", highlight=False, markup=False)
    if gone:
        out.print(f"  the {gone['areas']} areas it replaced ({gone['area_ha']} ha, kawasan "
                  f"{', '.join(gone['kawasan']) or '-'}) are kept as version {gone['version']}",
                  highlight=False, markup=False)
