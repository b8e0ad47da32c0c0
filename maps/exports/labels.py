"""Map labels that never overlap: a greedy placement on the drawn figure (matplotlib).

Labels are tried in order of importance (kawasan before kelurahan before street names); each is measured with the
figure's renderer at its anchor and, failing that, at a few offsets around it (above, below, right, left), and is
kept at the first position whose box (plus a margin) lies inside the map frame and overlaps neither a label kept
before nor an obstacle (the scale bar and the north arrow). A label with no free position is dropped, as map
makers do. The kept boxes are returned so that tests (and callers) can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.transforms import Bbox, ScaledTranslation

MARGIN_PT = 1.5  # free space kept around every label, in points
# positions tried (dx: right or left of the anchor, dy: in label heights): the anchor first, then around it
OFFSETS = ((0, 0.0), (0, 1.1), (0, -1.1), (1, 0.0), (-1, 0.0), (0, 2.2), (0, -2.2))


class QuietCanvas(FigureCanvasAgg):
    """An Agg canvas (it measures text for the placement) that ignores draw_idle: GeoPandas' plot calls it after
    every layer, and each call drew the whole figure (about a third of an atlas page's time). Saving draws."""

    def draw_idle(self, *args, **kwargs) -> None:
        return None


@dataclass
class Label:
    x: float  # anchor in data coordinates
    y: float
    text: str
    priority: int = 0  # lower is placed first
    size: float = 6.0
    style: dict[str, Any] = field(default_factory=dict)  # extra Text properties (colour, weight, rotation, bbox)


@dataclass
class Placement:
    texts: list[Text]
    boxes: list[Bbox]  # display coordinates, margin included
    dropped: list[str]


def _grown(box: Bbox, points: float, dpi: float) -> Bbox:
    pad = points * dpi / 72
    return Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)


def _free(box: Bbox, taken: list[Bbox]) -> bool:
    return not any(box.overlaps(other) for other in taken)


def place_labels(ax: Axes, labels: list[Label], obstacles: list[Artist] | None = None) -> Placement:
    """Draw `labels` on `ax` where they fit; returns what was kept (texts and boxes) and what was dropped."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    dpi = fig.dpi
    frame = ax.get_window_extent(renderer)
    taken = [_grown(t.get_window_extent(renderer), MARGIN_PT, dpi) for t in obstacles or []]
    kept: list[Text] = []
    boxes: list[Bbox] = []
    dropped: list[str] = []
    for label in sorted(labels, key=lambda lb: lb.priority):
        if not label.text.strip():
            continue
        text = ax.text(label.x, label.y, label.text, fontsize=label.size, ha="center", va="center",
                       transform=ax.transData, parse_math=False, clip_on=False, **label.style)
        at_anchor = text.get_window_extent(renderer)
        half_w, height = at_anchor.width / 2 * 72 / dpi, at_anchor.height * 72 / dpi  # points
        for dx, dy in OFFSETS:
            # beside the anchor: the label's near edge a little off it (not a whole label width away)
            shift_x = (dx / abs(dx)) * (half_w + 3) if dx else 0.0
            text.set_transform(ax.transData + ScaledTranslation(shift_x / 72, dy * height / 72,
                                                                fig.dpi_scale_trans))
            box = _grown(text.get_window_extent(renderer), MARGIN_PT, dpi)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and _free(box, taken):
                taken.append(box)
                kept.append(text)
                boxes.append(box)
                break
        else:
            text.remove()
            dropped.append(label.text)
    return Placement(kept, boxes, dropped)


def overlapping_pairs(boxes: list[Bbox]) -> list[tuple[int, int]]:
    """Index pairs of boxes that overlap (for checks: a placement has none)."""
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
