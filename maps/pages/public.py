"""/publik: the public record, no login. Per kab/kota (`?tenant=12.71`) or kelurahan (`?kelurahan=12.71.01.1001`):
charts of slum hectares toward zero and of money per funding source per year (Chart.js, vendored in
maps/static/vendor/chartjs), the money table (budgeted and realised apart from proposals, never added up), the works
with their stage, money, public photos and rehabilitation reasons, and the assets with their berita acara.

A server-rendered document (no map: it reads well on a phone), read as the public whoever asks, so it never shows
a proposer, a user or a group member: roles and group names only. Database text is escaped; the charts' data reach
the script as script-safe JSON.
"""

from __future__ import annotations

from html import escape
from typing import Any

from psycopg import AsyncConnection

from layers.db.frames import arun
from layers.keterpaduan.public_record import public_record_op, scope_of
from maps.pages.base import NAV, STATIC, VENDOR, script_json
from maps.pages.formats import angka, hectares, rupiah, tanggal

TITLE = "Catatan Publik KOTAKU"
STAGES = {"rembuk_warga": "Rembuk warga", "musrenbang_kelurahan": "Musrenbang kelurahan",
          "musrenbang_kecamatan": "Musrenbang kecamatan", "pokir_dprd": "Pokok pikiran DPRD",
          "renja_opd": "Renja OPD", "rkpd": "RKPD (dianggarkan)", "pelaksanaan": "Pelaksanaan", "selesai": "Selesai",
          "serah_terima": "Serah terima aset"}
# the formats of GET /exports/keterpaduan.{format} offered here, with their media types (maps/exports MEDIA_TYPES;
# maps.pages may not import maps.exports)
DOWNLOADS = (("xlsx", "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             ("csv", "CSV", "text/csv"), ("pdf", "Lembar PDF", "application/pdf"),
             ("gpkg", "GeoPackage", "application/geopackage+sqlite3"),
             ("kml", "KML", "application/vnd.google-earth.kml+xml"))
CONDITIONS = {"baik": "Baik", "rusak_ringan": "Rusak ringan", "rusak_berat": "Rusak berat"}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _nav() -> str:
    return "".join(f'<a href="{href}"{" aria-current=page" if key == "publik" else ""}>{label}</a>'
                   for key, href, label in NAV)


def _money_table(money: list[dict]) -> str:
    if not money:
        return '<p class="catatan">Belum ada kegiatan yang tercatat.</p>'
    rows = "".join(
        f"<tr><td>{_e(m['year'])}</td><td>{_e(m['funding_name'] or m['funding_source'])}</td>"
        f"<td class=angka>{rupiah(m['budgeted'])}</td>"
        f"<td class=angka>{rupiah(m['realised'])}</td><td class=angka>{rupiah(m['proposed_cost'])}</td></tr>"
        for m in money)
    return ('<div class="gulir"><table id="tabel-dana"><thead><tr><th>Tahun</th><th>Sumber dana</th>'
            '<th class=angka>Pagu anggaran</th><th class=angka>Realisasi</th><th class=angka>Usulan belum '
            f'dianggarkan</th></tr></thead><tbody>{rows}</tbody></table></div>'
            '<p class="catatan">Usulan, pagu dan realisasi adalah tiga keadaan uang yang berbeda: '
            'tidak dijumlahkan.</p>')


def _activity(a: dict) -> str:
    money = (f"<li>Pagu anggaran: <strong>{rupiah(a['budgeted'])}</strong></li>"
             f"<li>Realisasi: <strong>{rupiah(a['realised'])}</strong></li>" if a["budgeted"] is not None else
             f"<li>Usulan (belum dianggarkan): <strong>{rupiah(a['proposed_cost'])}</strong></li>")
    years = _e(a["year_start"]) + ("" if a["year_end"] == a["year_start"] else f"-{_e(a['year_end'])}")
    stage = STAGES.get(a["stage"], a["stage"])
    progress = f" ({angka(a['progress'])} %)" if a["stage"] in ("pelaksanaan", "selesai", "serah_terima") else ""
    rehab = "".join(
        f'<p class="rehabilitasi">Rehabilitasi atas <a href="#aset-{_e(r["asset_id"])}">aset {_e(r["asset_id"])}: '
        f'{_e(r["title"])}</a> (serah terima {tanggal(r["handover_date"])}). Alasan: {_e(a["override_reason"])}</p>'
        if r.get("asset_id") else
        f'<p class="rehabilitasi">Rehabilitasi atas kegiatan {_e(r["activity_id"])}: {_e(r["title"])}. '
        f'Alasan: {_e(a["override_reason"])}</p>'
        for r in a["rehabilitates"] or [])
    photos = "".join(
        f'<a href="/activities/{a["id"]}/attachments/{int(p)}"><img src="/activities/{a["id"]}/attachments/{int(p)}" '
        f'alt="Foto kegiatan {_e(a["title"])}" loading="lazy" width="120" height="90"></a>'
        for p in a["photos"] or [])
    return (f'<article class="karya" id="kegiatan-{a["id"]}"><h3>{_e(a["title"])}</h3>'
            f'<p class="catatan">{_e(a["kind_name"])} &middot; {_e(a["kelurahan"] or a["kelurahan_code"])} &middot; '
            f'tahun {years} &middot; {_e(a["funding_source"] or "tanpa sumber dana")}</p>'
            f'<p>Tahap: <strong class="tahap">{_e(stage)}</strong>{progress}</p><ul>{money}</ul>{rehab}'
            + (f'<div class="foto">{photos}</div>' if photos else "") + "</article>")


def _asset(s: dict) -> str:
    group = s["group_name"] or ""
    kind = s["group_kind"] or ""
    recipient = (_e(group if group.upper().startswith(kind) else f"{kind} {group}") if group
                 else _e(s["recipient_opd"] or "-"))
    document = (f' &middot; <a href="/assets/{s["id"]}/document">dokumen berita acara</a>' if s["document"] else "")
    return (f'<article class="karya aset" id="aset-{s["id"]}"><h3>{_e(s["title"])}</h3>'
            f'<p class="catatan">{_e(s["kind_name"])} &middot; {_e(s["kelurahan"] or s["kelurahan_code"])}</p>'
            f'<ul><li>Berita acara serah terima: <strong>{_e(s["handover_number"] or "-")}</strong>, '
            f'{tanggal(s["handover_date"])}{document}</li><li>Penerima: {recipient}</li>'
            f'<li>Nilai: {rupiah(s["value"])} &middot; kondisi: {_e(CONDITIONS.get(s["condition"], s["condition"]))}'
            f' &middot; umur layanan {_e(s["service_life_years"])} tahun</li></ul></article>')


def _downloads(tenant: str) -> str:
    """The kab/kota's keterpaduan exports (GET /exports/keterpaduan.{format}): public rows for a visitor."""
    links = "".join(f'<li><a href="/exports/keterpaduan.{fmt}?tenant={_e(tenant)}" type="{kind}" download>'
                    f'{label}</a></li>' for fmt, label, kind in DOWNLOADS)
    return (f'<section id="unduh"><h2>Unduh data kab/kota {_e(tenant)}</h2><ul class="unduhan">{links}</ul>'
            '<p class="catatan">Data yang terbuka untuk umum, tanpa data pribadi.</p></section>')


def render_public(record: dict[str, Any]) -> str:
    place = record["place"]
    name = place["name"] or place["code"]
    where = (f"Kelurahan {name}" + (f", Kecamatan {place['parent_name']}" if place.get("parent_name") else "")
             if record["kelurahan"] else name)
    acts, assets = record["activities"], record["assets"]
    kelurahan = sorted({(a["kelurahan_code"], a["kelurahan"] or a["kelurahan_code"]) for a in acts
                        if a["kelurahan_code"]})
    kel_links = "" if record["kelurahan"] or not kelurahan else (
        '<section><h2>Per kelurahan</h2><p class="daftar-kel">' + " ".join(
            f'<a href="/publik?kelurahan={_e(code)}">{_e(label)}</a>' for code, label in kelurahan) + "</p></section>")
    back = (f'<p><a href="/publik?tenant={_e(record["tenant"])}">&larr; seluruh kab/kota</a></p>'
            if record["kelurahan"] else "")
    slum = record["slum_ha"]
    slum_text = ("; ".join(f"{p['year']}: {hectares(p['slum_ha'])} ({_e(p['source'])})" for p in slum)
                 if slum else "Belum ada kawasan kumuh yang diumumkan.")
    config = {"slumHa": slum, "money": record["money"]}
    slum_chart = ('<div class="kanvas"><canvas id="grafik-kumuh" role="img" aria-label="Luas kawasan kumuh per tahun">'
                  '</canvas></div>' if slum else "")
    spent = [m for m in record["money"] if (m["budgeted"] or 0) > 0 or (m["realised"] or 0) > 0]
    money_chart = ('<div class="kanvas"><canvas id="grafik-dana" role="img" aria-label="Pagu dan realisasi per '
                   'sumber dana per tahun"></canvas></div>' if spent else
                   '<p class="catatan">Belum ada pagu anggaran yang tercatat.</p>')
    body = f"""
<header class="kepala"><h1>{_e(TITLE)}</h1><nav>{_nav()}</nav></header>
<main>
<h2 class="tempat">{_e(where)} <small>({_e(place['code'])})</small></h2>{back}
<p class="catatan">Catatan terbuka pekerjaan penanganan permukiman kumuh: tahap, uang, foto dan serah terima aset.
Tanpa data pribadi.</p>
<section class="grafik"><div><h2>Luas kumuh menuju nol</h2>{slum_chart}
<p class="catatan" id="teks-kumuh">{slum_text}</p></div>
<div><h2>Pagu dan realisasi per sumber dana</h2>{money_chart}</div></section>
<section><h2>Uang per tahun dan sumber dana</h2>{_money_table(record['money'])}</section>
{_downloads(record["tenant"])}
{kel_links}
<section id="kegiatan"><h2>Kegiatan ({len(acts)})</h2>{''.join(_activity(a) for a in acts) or
 '<p class="catatan">Belum ada kegiatan.</p>'}</section>
<section id="aset"><h2>Aset yang diserahterimakan ({len(assets)})</h2>{''.join(_asset(s) for s in assets) or
 '<p class="catatan">Belum ada aset.</p>'}</section>
</main>"""
    return _document(f"{TITLE}: {name}", body, config)


def _document(title: str, body: str, config: dict) -> str:
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>{_e(title)}</title>
<link rel="icon" href="{STATIC}/kotaku/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{STATIC}/kotaku/publik.css"></head>
<body class="publik">{body}
<script type="application/json" id="kotaku-config">{script_json(config)}</script>
<script src="{VENDOR}/chartjs/chart.umd.js"></script>
<script src="{STATIC}/kotaku/publik.js"></script>
</body></html>"""


def _chooser(tenants: list[dict]) -> str:
    items = "".join(f'<li><a href="/publik?tenant={_e(t["code"])}">{_e(t["name"])} ({_e(t["code"])})</a></li>'
                    for t in tenants)
    body = (f'<header class="kepala"><h1>{_e(TITLE)}</h1><nav>{_nav()}</nav></header><main>'
            f'<h2>Pilih kabupaten/kota</h2><ul class="pilihan">{items or "<li>Belum ada data.</li>"}</ul></main>')
    return _document(TITLE, body, {"slumHa": [], "money": []})


async def public_page(conn: AsyncConnection, tenant: str | None, kelurahan: str | None) -> str:
    if not (tenant and tenant.strip()) and not (kelurahan and kelurahan.strip()):
        cur = await conn.execute(
            "SELECT r.code, r.name FROM regions r WHERE r.level = 'kabkota' AND (EXISTS (SELECT 1 FROM activities a "
            "WHERE a.tenant = r.code) OR EXISTS (SELECT 1 FROM decrees d WHERE d.tenant = r.code AND d.published)) "
            "ORDER BY r.name")
        return _chooser([{"code": c, "name": n} for c, n in await cur.fetchall()])
    code, kel = scope_of(tenant, kelurahan)
    return render_public(await arun(conn, public_record_op(code, kel)))
