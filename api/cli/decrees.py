"""`kotaku decree history|restore`: the versions a decree's slum areas were replaced from, and bringing one back."""

from __future__ import annotations

import json

import typer

from api.cli.context import connect, current_settings, database_url, migrate
from api.cli.output import out
from api.cli.root import app
from geo.messages import message

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
    lang, current = current_settings().lang, history["current"]
    out.print(message("cli.decree_now", lang, decree=history["decree"], tenant=history["tenant"],
                      areas=current["areas"], area_ha=current["area_ha"]), highlight=False, markup=False)
    if not history["versions"]:
        out.print("  " + message("cli.decree_no_versions", lang), highlight=False)
    for v in history["versions"]:
        restored = message("cli.decree_restored_at", lang, at=v["restored_at"][:19]) if v["restored_at"] else ""
        actor = f" ({v['actor']})" if v["actor"] else ""
        out.print("  " + message("cli.decree_version", lang, version=v["version"], areas=v["areas"],
                                 area_ha=v["area_ha"], kawasan=v["kawasan"], at=v["replaced_at"][:19],
                                 by=v["replaced_by"]) + actor + restored, highlight=False, markup=False)


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
    gone, lang = result["replaced"], current_settings().lang
    out.print(message("cli.decree_restored", lang, decree=result["decree"], tenant=result["tenant"],
                      version=result["restored_version"], areas=result["restored_areas"],
                      units=result["survey_units_linked_back"], activities=result["activities_linked_back"]),
              highlight=False, markup=False)
    if gone:
        out.print("  " + message("cli.decree_kept", lang, areas=gone["areas"], area_ha=gone["area_ha"],
                                 kawasan=gone["kawasan"], version=gone["version"]), highlight=False, markup=False)
