"""The overlap ("tumpang tindih") verdict of layers/planning/overlap.py, as POST /overlap-check answers it, as a
saved activity carries it, and inside the 409 report of a blocked creation or change."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = int | float


class RelatedActivity(BaseModel):
    """A live activity the checked one relates to, and how much they share (layers.planning.overlap.describe).

    Exactly one of `shared_length_m`, `shared_area_m2`, `distance_m` is present: the key is the value of
    `measure`."""

    model_config = ConfigDict(extra="allow")

    id: int
    title: str | None
    tenant: str
    kind: str
    program: str | None
    funding_source: str | None
    year_start: int
    year_end: int
    stage: str | None
    status: str | None
    relation: Literal["konflik", "kolaborasi"] = Field(description="konflik blocks; kolaborasi is linked")
    measure: Literal["shared_length_m", "shared_area_m2", "distance_m"]
    shared_length_m: Number | None = Field(None, description="shared length in metres (lines)")
    shared_area_m2: Number | None = Field(None, description="shared area in square metres (polygons)")
    distance_m: Number | None = Field(None, description="distance in metres (a point against anything)")
    share_of_new: Number | None = Field(description="shared part / the checked activity (0..1)")
    share_of_existing: Number | None = Field(description="shared part / the existing activity (0..1)")
    overlap: dict[str, Any] | None = Field(description="the shared part as GeoJSON geometry (EPSG:4326), conflicts")


class OverlapVerdict(BaseModel):
    """`POST /overlap-check`: whether saving would be blocked, by which activities, and which it would continue."""

    blocked: bool = Field(description="true when there is at least one conflict")
    conflicts: list[RelatedActivity]
    collaborations: list[RelatedActivity]


class ConflictReport(BaseModel):
    """409 of activity creation or change: the error shape; `details` is the overlap verdict when an overlap
    blocked it (null for other conflicts, e.g. a proposal past the editable stages)."""

    code: str = Field(examples=["conflict"])
    description: str
    details: OverlapVerdict | None = None


class SavedActivity(BaseModel):
    """201 of creation, 200 of PUT/PATCH: the id, the verdict it was saved with, and its public fields."""

    id: int
    saved: bool
    blocked: bool
    conflicts: list[RelatedActivity]
    collaborations: list[RelatedActivity]
    properties: dict[str, Any] = Field(description="the activity's public fields (no personal data) and geometry")
