"""`kotaku plan add|item|link|list` and `kotaku budget set`: plans and budget lines (issue 12 item 4). Thin: the same
functions as the HTTP routes (layers/planning/plans.py), acting as the CLI's principal (admin; audited as cli:USER)."""

from __future__ import annotations

import json
from typing import Any

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.root import app
from layers.accounts.access import cli_principal

plan_app = typer.Typer(help="Plans (RPLP/RKM, RP2KP-KP/SIAP, RKPD) and their items.", no_args_is_help=True)
budget_app = typer.Typer(help="Budget lines of activities: DPA, kode rekening, allocated and realised.",
                         no_args_is_help=True)
app.add_typer(plan_app, name="plan")
app.add_typer(budget_app, name="budget")


def _run(call) -> None:
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        result: Any = call(conn)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@plan_app.command("add")
def plan_add(kind: str = typer.Option(..., help="rplp, rkm, rp2kpkp, siap or rkpd"),
             tenant: str = typer.Option(..., help="Kab/kota code"),
             year_start: int = typer.Option(..., "--year", help="(First) year"),
             year_end: int = typer.Option(None, help="Last year (default: --year)"),
             kelurahan: str = typer.Option(None, help="Kelurahan code (RPLP/RKM)"),
             title: str = typer.Option(None), number: str = typer.Option(None, help="Document number")) -> None:
    """Create a plan; prints it as JSON."""
    from layers.planning.plans import create_plan

    fields = {"kind": kind, "tenant": tenant, "year_start": year_start, "year_end": year_end,
              "kelurahan_code": kelurahan, "title": title, "document_number": number}
    _run(lambda conn: create_plan(conn, cli_principal(), {k: v for k, v in fields.items() if v is not None}))


@plan_app.command("item")
def plan_item(plan_id: int = typer.Argument(..., help="Plan id"), title: str = typer.Option(...),
              code: str = typer.Option(None), kind: str = typer.Option(None, help="Activity kind"),
              year: int = typer.Option(None), cost_estimate: float = typer.Option(None, help="Rupiah")) -> None:
    """Add an item to a plan; prints it as JSON."""
    from layers.planning.plans import add_item

    fields = {"title": title, "code": code, "kind": kind, "year": year, "cost_estimate": cost_estimate}
    _run(lambda conn: add_item(conn, cli_principal(), plan_id, {k: v for k, v in fields.items() if v is not None}))


@plan_app.command("link")
def plan_link(activity_id: int = typer.Argument(...), plan_item_id: int = typer.Argument(...)) -> None:
    """Link an activity to the plan item it implements."""
    from layers.planning.plans import link_activity

    _run(lambda conn: link_activity(conn, cli_principal(), activity_id, plan_item_id))


@plan_app.command("list")
def plan_list(tenant: str = typer.Option(..., help="Kab/kota code")) -> None:
    """A kab/kota's plans with their items and the activities implementing each (JSON)."""
    from layers.planning.plans import list_plans

    _run(lambda conn: list_plans(conn, tenant))


@budget_app.command("set")
def budget_set(activity_id: int = typer.Argument(...), year: int = typer.Option(...),
               account_code: str = typer.Option(..., "--account", help="Kode rekening"),
               allocated: float = typer.Option(..., help="Allocated (pagu), rupiah"),
               realised: float = typer.Option(0, help="Realised, rupiah"),
               funding_source: str = typer.Option(None, "--source", help="Funding source (default: the activity's)"),
               dpa: str = typer.Option(None, help="DPA number")) -> None:
    """Add or change a budget line of an activity (same year, source and kode rekening: changed)."""
    from layers.planning.plans import set_budget_line

    fields = {"year": year, "account_code": account_code, "allocated": allocated, "realised": realised,
              "funding_source": funding_source, "dpa_number": dpa}
    _run(lambda conn: set_budget_line(conn, cli_principal(), activity_id,
                                      {k: v for k, v in fields.items() if v is not None}))
