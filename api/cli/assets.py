"""`kotaku asset list|show|inspect|maintain|due` and `kotaku group add|list|member`: the asset register (issue 12).
Thin: the same functions as the HTTP routes (layers/planning/asset_cases.py), acting as the CLI's principal (admin;
audited as cli:USER)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from api.cli.context import connect, current_settings, database_url, migrate
from api.cli.output import out
from api.cli.root import app
from layers.accounts.access import cli_principal

asset_app = typer.Typer(help="Asset register: handed-over works, inspections, O&P, assets due for inspection.",
                        no_args_is_help=True)
group_app = typer.Typer(help="Community groups that keep assets: KPP, BKM/LKM and their members.",
                        no_args_is_help=True)
app.add_typer(asset_app, name="asset")
app.add_typer(group_app, name="group")


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _line(text: str) -> None:
    out.print(text, highlight=False, markup=False)


@asset_app.command("list")
def asset_list(tenant: str = typer.Option(None, help="Kab/kota code (default: every tenant)"),
               as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """List the register: id, title, kind, condition, handover, recipient, life ends."""
    from layers.planning.asset_cases import list_assets

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        rows = list_assets(conn, cli_principal(), tenant)
    if as_json:
        _print(rows)
        return
    for r in rows:
        _line(f"{r['id']:>6}  {r['tenant']}  {r['title']} ({r['kind']}): {r['condition']}, serah terima "
              f"{r['handover_date']} ({r['handover_number'] or 'tanpa BA'}) ke {r['recipient'] or '-'}, umur layanan "
              f"s.d. {r['life_ends_year']}")
    _line(f"{len(rows)} aset")


@asset_app.command("show")
def asset_show(asset_id: int = typer.Argument(..., help="Asset id"),
               as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """One asset with its inspections and maintenance."""
    from layers.planning.asset_cases import show

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        asset = show(conn, cli_principal(), asset_id)
    if as_json:
        _print(asset)
        return
    _line(f"aset {asset['id']}: {asset['title']} ({asset['kind']}), kegiatan {asset['activity_id']}, "
          f"kab/kota {asset['tenant']}")
    _line(f"  serah terima {asset['handover_date']}, BA {asset['handover_number'] or '-'}, nilai "
          f"{asset['value'] if asset['value'] is not None else '-'}, kondisi {asset['condition']}, umur layanan "
          f"{asset['service_life_years']} th (s.d. {asset['life_ends_year']}, sisa {asset['remaining_life_years']})")
    for i in asset["inspections"]:
        _line(f"  pemeriksaan {i['inspected_on']}: {i['condition']} {i['notes'] or ''}".rstrip())
    for m in asset["maintenance"]:
        _line(f"  O&P {m['done_on']}: {m['kind']} {m['cost'] if m['cost'] is not None else ''} "
              f"{m['notes'] or ''}".rstrip())


@asset_app.command("inspect")
def asset_inspect(asset_id: int = typer.Argument(..., help="Asset id"),
                  condition: str = typer.Option(..., help="baik, rusak_ringan or rusak_berat"),
                  date: str = typer.Option(None, "--date", help="Inspection date YYYY-MM-DD (default: today)"),
                  notes: str = typer.Option(None, help="Notes"),
                  photo: list[Path] = typer.Option(None, "--photo", help="A JPEG/PNG photo (repeatable, at most 5)"),
                  as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Record an inspection; the asset's condition follows the latest one."""
    from layers.planning.asset_cases import inspect

    photos = [(p.name, p.read_bytes()) for p in photo or []]
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        record = inspect(conn, cli_principal(), asset_id, inspected_on=date or dt.date.today().isoformat(),
                         condition=condition, notes=notes, photos=photos, settings=current_settings())
    if as_json:
        _print(record)
        return
    _line(f"aset {asset_id}: pemeriksaan {record['inspected_on']} {record['condition']} dicatat "
          f"({len(record['photos'])} foto); kondisi aset sekarang {record['asset_condition']}")


@asset_app.command("maintain")
def asset_maintain(asset_id: int = typer.Argument(..., help="Asset id"),
                   kind: str = typer.Option(..., help="operasi, pemeliharaan or perbaikan"),
                   date: str = typer.Option(None, "--date", help="Date YYYY-MM-DD (default: today)"),
                   cost: float = typer.Option(None, help="Cost in rupiah"),
                   notes: str = typer.Option(None, help="Notes"),
                   as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Record operation or maintenance (O&P) done on an asset."""
    from layers.planning.asset_cases import maintain

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        record = maintain(conn, cli_principal(), asset_id, done_on=date or dt.date.today().isoformat(), kind=kind,
                          cost=cost, notes=notes)
    if as_json:
        _print(record)
        return
    _line(f"aset {asset_id}: {record['kind']} {record['done_on']} dicatat")


@asset_app.command("due")
def asset_due(tenant: str = typer.Option(..., help="Kab/kota code"),
              today: str = typer.Option(None, help="Reference date YYYY-MM-DD (default: today)"),
              as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Assets past due for inspection, the most overdue first."""
    from geo.errors import InvalidInput
    from layers.planning.asset_cases import due

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise InvalidInput(f"--today '{today}' is not a date (YYYY-MM-DD)") from None
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        rows = due(conn, cli_principal(), tenant, day)
    if as_json:
        _print(rows)
        return
    for r in rows:
        _line(f"{r['id']:>6}  {r['title']} ({r['kind']}): jatuh tempo {r['due_on']}, terakhir diperiksa "
              f"{r['last_inspected_on'] or 'belum pernah'}, kondisi {r['condition']}")
    _line(f"{len(rows)} aset perlu diperiksa")


@group_app.command("add")
def group_add(name: str = typer.Argument(..., help="Group name, e.g. 'KPP Gang Mawar'"),
              kind: str = typer.Option(..., help="kpp, bkm or lkm"),
              tenant: str = typer.Option(..., help="Kab/kota code"),
              kelurahan: str = typer.Option(None, help="Kelurahan/desa code"),
              parent: int = typer.Option(None, help="Id of the BKM/LKM a KPP belongs to"),
              as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Create a community group."""
    from layers.planning.asset_cases import add_group

    fields = {"name": name, "kind": kind, "tenant": tenant, "kelurahan_code": kelurahan, "parent_id": parent}
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        group = add_group(conn, cli_principal(), {k: v for k, v in fields.items() if v is not None})
    if as_json:
        _print(group)
        return
    _line(f"kelompok {group['id']}: {group['name']} ({group['kind']}, {group['tenant']})")


@group_app.command("list")
def group_list(tenant: str = typer.Option(None, help="Kab/kota code (default: every tenant)"),
               as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """List groups with their members."""
    from layers.planning.asset_cases import groups

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        rows = groups(conn, cli_principal(), tenant)
    if as_json:
        _print(rows)
        return
    for g in rows:
        _line(f"{g['id']:>5}  {g['tenant']}  {g['name']} ({g['kind']}), {g['member_count']} anggota, "
              f"{g['assets']} aset")


@group_app.command("member")
def group_member(group_id: int = typer.Argument(..., help="Group id"),
                 name: str = typer.Option(..., help="Member's name"),
                 role: str = typer.Option(None, help="ketua, sekretaris, bendahara, anggota ..."),
                 phone: str = typer.Option(None, help="Phone number"),
                 as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Add a member to a group."""
    from layers.planning.asset_cases import add_member

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        member = add_member(conn, cli_principal(), group_id, {"name": name, "role": role, "phone": phone})
    if as_json:
        _print(member)
        return
    _line(f"kelompok {group_id}: anggota {member['name']} ditambahkan")
