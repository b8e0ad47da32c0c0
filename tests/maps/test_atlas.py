"""The atlas PDF as a reader checks it with poppler (pdfinfo, pdftotext, pdftoppm): one page for the kab/kota, one
per kecamatan, one per kawasan; every page titled, with legend, scale bar, north arrow and sources; names printed
as written in the data ("Belawan II", "Kel. Sei Agul", never recased); no two words of a page overlap (the labels
were placed without collisions); where the kab/kota has a basemap, it is drawn with the OpenStreetMap notice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from layers.accounts.access import Principal
from layers.imports.demo_basemap import load_demo_basemap
from maps.exports.atlas import collect_atlas, write_atlas_file
from maps.exports.labels import Label, overlapping_pairs, place_labels
from maps.styles import BASEMAP_COLOURS, hex_rgb

ADMIN = Principal(role="admin", username="test")
ROMAN = "Belawan II"  # 12.71.08.1002: the boundary file spells it "Belawan Ii"; here it is written right
KAWASAN = "Kel. Sei Agul"


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def page_text(path: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def word_boxes(path: Path) -> list[list[tuple[str, float, float, float, float]]]:
    """Per page, every word with its box, as pdftotext -bbox reports them."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    pages = []
    for chunk in html.split("<page ")[1:]:
        pages.append([(m[4], float(m[0]), float(m[1]), float(m[2]), float(m[3])) for m in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', chunk)])
    return pages


@pytest.fixture(scope="module")
def medan(fresh_demo):
    with psycopg.connect(fresh_demo()) as conn:
        conn.execute("UPDATE regions SET name = %s WHERE code = '12.71.08.1002'", [ROMAN])
        conn.execute("UPDATE slum_areas SET kawasan = %s WHERE kawasan = (SELECT kawasan FROM slum_areas "
                     "ORDER BY id LIMIT 1)", [KAWASAN])
        conn.commit()
        yield conn


@pytest.fixture(scope="module")
def atlas(medan, tmp_path_factory):
    path = tmp_path_factory.mktemp("atlas") / "atlas.pdf"
    info = write_atlas_file(collect_atlas(medan, "12.71", ADMIN), path)
    return path, info


def test_one_page_for_the_city_each_kecamatan_and_each_kawasan(medan, atlas):
    path, info = atlas
    kecamatan = medan.execute("SELECT count(*) FROM regions WHERE tenant = '12.71' AND level = 'kecamatan'"
                              ).fetchone()[0]
    kawasan = medan.execute("SELECT count(DISTINCT kawasan) FROM slum_areas WHERE tenant = '12.71' "
                            "AND coalesce(kawasan, '') <> ''").fetchone()[0]
    assert kecamatan == 21 and kawasan == 16
    assert pdf_pages(path) == info["pages"] == 1 + kecamatan + kawasan
    first = page_text(path, 1)
    assert "Kota Medan (12.71)" in first and "Halaman 1 dari 38" in first
    codes = [re.search(r"^\s*Kecamatan .+ \((12\.71\.\d\d)\)\s*$", page_text(path, n), re.M)
             for n in range(2, 2 + kecamatan)]
    assert all(codes) and [c.group(1) for c in codes] == sorted({c.group(1) for c in codes})  # in code order
    kawasan_titles = [re.search(r"^\s*(Kawasan .+?)\s*$", page_text(path, n), re.M)
                      for n in range(2 + kecamatan, 2 + kecamatan + kawasan)]
    assert all(kawasan_titles) and len({t.group(1) for t in kawasan_titles}) == kawasan


def test_every_page_has_legend_scale_north_arrow_and_sources(atlas):
    path, info = atlas
    for n in range(1, info["pages"] + 1):
        text = page_text(path, n)
        for needed in ("ATLAS KAWASAN KUMUH", "Legenda", "Kumuh berat", "Batas kelurahan/desa", "Tanggal:",
                       "Sumber:", "MIT License", "SINTETIS", "Usulan belum dianggarkan", "Pagu anggaran",
                       "Realisasi", f"Halaman {n} dari {info['pages']}"):
            assert needed in text, (n, needed)
        assert re.search(r"\b\d+(\.\d+)? (k?m)\b", text), n  # the scale bar's length
        assert re.search(r"^\s*U\s*$|\sU\s", text, re.M), n  # the north arrow
        assert "OpenStreetMap" not in text  # Medan has no basemap: no OSM notice


def test_names_are_printed_as_written(atlas):
    path, info = atlas
    text = "\n".join(page_text(path, n) for n in range(1, info["pages"] + 1))
    assert ROMAN in text and "Belawan Ii" not in text
    assert f"Kawasan {KAWASAN}" in text
    assert "Medan Belawan" in text and "MEDAN BELAWAN" not in text


def test_no_two_words_of_a_page_overlap(atlas):
    path, info = atlas
    pages = word_boxes(path)
    assert len(pages) == info["pages"]
    for number, words in enumerate(pages, 1):
        assert len(words) > 40, number
        clashes = [(a[0], b[0]) for i, a in enumerate(words) for b in words[i + 1:]
                   if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5]
        assert clashes == [], (number, clashes[:5])


def test_greedy_placement_drops_what_does_not_fit():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    labels = [Label(5, 5, f"Kelurahan {i}", priority=i, size=8) for i in range(30)]
    placement = place_labels(ax, labels)
    assert 3 <= len(placement.texts) < 30 and len(placement.dropped) == 30 - len(placement.texts)
    assert placement.texts[0].get_text() == "Kelurahan 0"  # the most important label keeps its place
    assert overlapping_pairs(placement.boxes) == []
    frame = ax.get_window_extent()
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in placement.boxes)


@pytest.fixture(scope="module")
def jakarta(fresh_demo, tmp_path_factory):
    with psycopg.connect(fresh_demo()) as conn:
        load_demo_basemap(conn)
        path = tmp_path_factory.mktemp("atlas-jakarta") / "atlas.pdf"
        info = write_atlas_file(collect_atlas(conn, "31.71", ADMIN), path)
        kecamatan = conn.execute("SELECT count(*) FROM regions WHERE tenant = '31.71' AND level = 'kecamatan'"
                                 ).fetchone()[0]
    return path, info, kecamatan


def test_the_basemap_is_drawn_with_its_attribution(jakarta, tmp_path):
    path, info, kecamatan = jakarta
    assert info["basemap_features"] > 4000 and pdf_pages(path) == 1 + kecamatan == 9
    for n in range(1, info["pages"] + 1):
        text = page_text(path, n)
        assert "OpenStreetMap contributors, ODbL" in text and "Jalan (OpenStreetMap)" in text, n
        assert "MIT License" in text and "Cahya DSN" in text, n  # the shipped Jakarta Pusat boundaries' notice
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True, timeout=120)
    with Image.open(tmp_path / "page.png") as image:
        colours = dict((rgb, count) for count, rgb in image.convert("RGB").getcolors(1 << 22))
    road = hex_rgb(BASEMAP_COLOURS["major_road"])
    building = hex_rgb(BASEMAP_COLOURS["building"])
    near = lambda rgb, target: sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) <= 12  # noqa: E731
    assert sum(c for rgb, c in colours.items() if near(rgb, road)) > 200
    assert sum(c for rgb, c in colours.items() if near(rgb, building)) > 200


def test_the_a3_sheet_labels_do_not_overlap_either(medan, tmp_path):
    from maps.exports import collect, write_bundle

    path = tmp_path / "sheet.pdf"
    write_bundle(collect(medan, "12.71", ADMIN), "pdf", path)
    [words] = word_boxes(path)
    clashes = [(a[0], b[0]) for i, a in enumerate(words) for b in words[i + 1:]
               if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5]
    assert len(words) > 200 and clashes == [], clashes[:5]
