"""`kotaku import ...`: vector files and tables, all-or-nothing, with a report (api/cli/reports.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli.reports import run_import
from api.cli.root import app

import_app = typer.Typer(help="Import files (all-or-nothing, with a report).", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("regions")
def import_regions_command(
    file: Path = typer.Argument(..., help="Vector file: GeoJSON, GeoPackage, Shapefile (.shp/.zip), KML/KMZ, CSV"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. code=KD_DESA,name=NAMA,bps_code=KD_BPS"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good features and list the bad "
                                      "ones, with reasons, in a CSV file (default: reject the whole file)"),
    rejects: Path = typer.Option(None, "--rejects", metavar="FILE", help="With --skip-invalid: the CSV file of "
                                 "rejected features (default FILE.ditolak.csv beside the file, else in the "
                                 "current folder)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import administrative boundaries keyed by Kemendagri code (level and parent from the code)."""
    from geo.errors import InvalidInput
    from layers.imports.regions import import_regions

    if rejects is not None and not skip_invalid:
        raise InvalidInput.of("region.rejects_without_skip")
    run_import(import_regions, as_json, path=file, layer=layer, field_map=field_map, skip_invalid=skip_invalid,
               rejects=rejects)


@import_app.command("slum-areas")
def import_slum_areas_command(
    file: Path = typer.Argument(..., help="Vector file (Delineasi_Kumuh_AR or similar)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 73.07 or 7307"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the file's SK_KUMUH, else the file name)"),
    published: bool = typer.Option(False, "--published", help="Mark the decree as published (public)"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map",
                                  help="Field names, e.g. kawasan=NAMA,stated_area_ha=LUAS,level=TINGKAT,score=SKOR"),
    append: bool = typer.Option(False, "--append", help="Add to the decree's stored areas (one file per kelurahan)"),
    replace: bool = typer.Option(False, "--replace",
                                 help="Replace the decree's stored areas (kept as a version: kotaku decree restore)"),
    boundary_tolerance: float = typer.Option(
        100.0, "--boundary-tolerance", metavar="M",
        help="Accept areas up to M metres outside the kab/kota outline (published outlines are simplified)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import delineated slum areas of one decree; a decree with areas needs --append or --replace."""
    from geo.errors import InvalidInput
    from layers.imports.slum_areas import import_slum_areas

    if append and replace:
        raise InvalidInput("--append and --replace exclude each other: give one")
    run_import(import_slum_areas, as_json, path=file, tenant=tenant, decree=decree, published=published,
               layer=layer, field_map=field_map, mode="append" if append else "replace" if replace else None,
               boundary_tolerance_m=boundary_tolerance)


@import_app.command("activities")
def import_activities_command(
    file: Path = typer.Argument(..., help="CSV (WKT or lon/lat columns), GeoJSON, GeoPackage, KML/KMZ"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code for rows without a tenant column"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. title=NAMA_JALAN,cost=RAB (kind=- ignores "
                                  "the file's kind field)"),
    defaults: str = typer.Option(None, "--defaults", help="Values for blank fields, e.g. "
                                 "kind=jalan_paving,year=2025,program=NSUP,funding_source=APBD_KOTA"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import proposals/activities: every row meets the overlap check; all-or-nothing."""
    from layers.imports.activities import import_activities

    run_import(import_activities, as_json, path=file, tenant=tenant, layer=layer, field_map=field_map,
               defaults=defaults)



@import_app.command("surveys")
def import_surveys_command(
    file: Path = typer.Argument(..., help="KOTAKU workbook (kumuhRT/rtrw/kawasan) or a table (CSV/XLSX)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 33.75 or 3375"),
    round_name: str = typer.Option(None, "--round", help="Round name; with a round/tahun column: import only it"),
    scheme: str = typer.Option("permen14_2018", help="Scoring scheme of rows without a scheme column"),
    create_units: bool = typer.Option(False, "--create-units", help="Create unmatched units under their kelurahan"),
    skip_unmatched: Path = typer.Option(None, "--skip-unmatched", help="Baseline tables: write rows whose "
                                        "kelurahan or unit is not found to this CSV file and import the rest"),
    strict: bool = typer.Option(False, "--strict", help="Reject the file when stored scores contradict volumes"),
    sheet: str = typer.Option(None, help="Sheet of a workbook that holds a flat table"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. label=RT_RW,kelurahan=DESA,v_1a=VOL1A"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import survey volumes per unit and round; inconsistent stored scores are flagged, never scored."""
    from layers.imports.surveys import import_surveys

    run_import(import_surveys, as_json, path=file, tenant=tenant, round=round_name, scheme=scheme,
                create_units=create_units, strict=strict, sheet=sheet, field_map=field_map,
                skip_unmatched=skip_unmatched)


@import_app.command("strategic-zones")
def import_strategic_zones_command(
    file: Path = typer.Argument(..., help="Vector file of strategic zones (RTRW/RDTR)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    value: str = typer.Option(None, help="Strategic value of zones without a value field (e.g. strategis)"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. name=NAMA,value=NILAI"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import the strategic zones of a tenant (replaces them); slum areas inside get their value."""
    from layers.imports.priority import import_strategic_zones

    run_import(import_strategic_zones, as_json, path=file, tenant=tenant, value=value, layer=layer,
                field_map=field_map)


@import_app.command("priority-inputs")
def import_priority_inputs_command(
    file: Path = typer.Argument(..., help="Table (CSV/XLSX): slum area, MBR %, potensi, nilai strategis, legalitas"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    sheet: str = typer.Option(None, help="Sheet of a workbook"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. mbr_share_pct=MBR,potential=POTENSI"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import pertimbangan-lain and legality inputs per slum area."""
    from layers.imports.priority import import_priority_inputs

    run_import(import_priority_inputs, as_json, path=file, tenant=tenant, sheet=sheet, field_map=field_map)


@import_app.command("priority-matrix")
def import_priority_matrix_command(
    file: Path = typer.Argument(..., help="CSV with level,pl,legality,class,rank,rank9,handling"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Use a tenant's own level x PL x legality matrix instead of the packaged one."""
    from layers.imports.priority import import_priority_matrix

    run_import(import_priority_matrix, as_json, path=file, tenant=tenant)

