"""The PNG basemap's names (maps/basemap_png.py): written only by the tile that holds their point, never cut at a tile's
edge, never over one another, kecamatan before kelurahan, as the MapLibre style writes them (capitals, wrapping,
the kab/kota name only below zoom 10); the style's widths read the same at every zoom."""

from __future__ import annotations

import io
import itertools

import numpy as np
import shapely
from PIL import Image

from maps.basemap_png import LABEL_PADDING, TILE_PX, place_names, render_basemap_png, width_at
from maps.styles import BASEMAP_COLOURS, CASING_WIDTHS, KECAMATAN_NAMES, ROAD_WIDTHS, hex_rgb


def place(cls: str, name: str, x: float, y: float) -> tuple[str, str, shapely.Point]:
    return cls, name, shapely.Point(x, y)


def crowded() -> list:
    """Forty names around one spot, a kecamatan among them, and names by every edge."""
    rng = np.random.default_rng(7)
    places = [place("kelurahan", f"Kelurahan {i}", 2048 + rng.normal(0, 300), 2048 + rng.normal(0, 300))
              for i in range(40)]
    places.append(place("kecamatan", "Menteng", 2050, 2050))
    places.append(place("kelurahan", "Menteng Dalam", 2050, 2050))  # the same point: the kecamatan wins
    places += [place("village", "Pinggir Kiri", 3, 900), place("village", "Pinggir Kanan", 4093, 1900),
               place("village", "Pinggir Atas", 3000, 2), place("village", "Pinggir Bawah", 600, 4095)]
    return places


def overlap(a, b, pad: float) -> bool:
    return a[0] - pad < b[2] and b[0] < a[2] + pad and a[1] - pad < b[3] and b[1] < a[3] + pad


def test_names_do_not_overlap_and_stay_inside_their_tile():
    for scale in (1, 2):
        placed = place_names(crowded(), 13, scale)
        size = TILE_PX * scale
        texts = [p.text.replace("\n", " ") for p in placed]
        assert "MENTENG" in texts and "Menteng Dalam" not in texts  # capitals for kecamatan; it goes first
        assert texts[0] == "MENTENG" and placed[0].style == KECAMATAN_NAMES
        assert {"Pinggir Kiri", "Pinggir Kanan", "Pinggir Atas", "Pinggir Bawah"} <= set(texts)  # moved in, not cut
        assert 10 < len(placed) < 45  # some of the crowd is left out
        for p in placed:
            left, top, right, bottom = p.box
            assert 0 <= left < right <= size and 0 <= top < bottom <= size, (p.text, p.box)
        for a, b in itertools.combinations(placed, 2):
            assert not overlap(a.box, b.box, LABEL_PADDING * scale), (a.text, b.text)


def test_a_name_is_written_by_the_one_tile_that_holds_its_point():
    # the same place seen from two neighbouring tiles (the rows carry a buffer of 64 units around each tile)
    west = place_names([place("village", "Kampung Tepi", 4100, 2000)], 14)
    east = place_names([place("village", "Kampung Tepi", 4, 2000)], 14)
    assert west == [] and [p.text.replace("\n", " ") for p in east] == ["Kampung Tepi"]
    assert east[0].box[0] >= 1  # shifted inside the east tile rather than cut in two


def test_names_follow_the_style():
    long_name = "Kelurahan Dengan Nama Yang Sangat Panjang Sekali"
    (wrapped,) = place_names([place("kelurahan", long_name, 2048, 2048)], 13)
    assert wrapped.text.replace("\n", " ") == long_name and wrapped.text.count("\n") >= 2  # text-max-width 7 ems
    assert [p.text for p in place_names([place("kabkota", "Kota Contoh", 2048, 2048)], 9)] == ["KOTA CONTOH"]
    assert place_names([place("kabkota", "Kota Contoh", 2048, 2048)], 10) == []  # the style's maxzoom 10
    assert place_names([place("village", None, 2048, 2048), place("village", "", 10, 10)], 14) == []


def test_widths_read_the_styles_stops():
    assert width_at(ROAD_WIDTHS, 10) == 0.5 and width_at(ROAD_WIDTHS, 12) == 1.25
    assert width_at(ROAD_WIDTHS, 8) == 0.5 and width_at(ROAD_WIDTHS, 22) == 14  # clamped, as MapLibre does
    assert width_at(CASING_WIDTHS, 16) == 9.75


def test_a_tile_without_anything_to_draw_is_empty_and_names_are_drawn_in_their_colour():
    assert render_basemap_png([], 14) == b""
    rows = [("places", "kecamatan", "Gambir", shapely.Point(2048, 2048).wkb)]
    assert render_basemap_png(rows, 14, part="ground") == b""
    image = np.asarray(Image.open(io.BytesIO(render_basemap_png(rows, 14, part="names"))).convert("RGBA")).astype(int)
    ink = (np.abs(image[..., :3] - np.array(hex_rgb(KECAMATAN_NAMES.colour))) <= 8).all(axis=2) & (image[..., 3] > 200)
    halo = (image[..., :3] >= 250).all(axis=2) & (image[..., 3] > 200)
    assert ink.sum() > 20 and halo.sum() > ink.sum()  # letters, with their white halo around them
    ys, xs = np.nonzero(ink)
    assert 200 < xs.mean() < 312 and 240 < ys.mean() < 272  # centred on the point
    assert BASEMAP_COLOURS["label_halo"] == "#ffffff"
