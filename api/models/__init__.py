"""Typed responses of the public HTTP contract (pydantic v2), published in /openapi.json as named schemas.

The routes keep building plain dicts (or layers/ does); FastAPI validates them against these models with
`response_model_exclude_unset=True`, so a key the code leaves out stays out and a null it writes stays null:
the JSON is the same as before, now checked and documented. Streamed bodies (GeoJSON items) are documented
with `responses=` only.
"""

from api.models.errors import ERROR_STATUSES, ErrorBody, error_responses
from api.models.keterpaduan import KeterpaduanRegion, KeterpaduanSlumArea, KeterpaduanSummary
from api.models.ogc import (
    Collection,
    Collections,
    Conformance,
    Extent,
    Feature,
    FeatureCollection,
    LandingPage,
    Link,
    SpatialExtent,
    TemporalExtent,
)
from api.models.overlap import ConflictReport, OverlapVerdict, RelatedActivity, SavedActivity
from api.models.tilejson import TileJSON, VectorLayer

__all__ = [
    "ERROR_STATUSES", "Collection", "Collections", "ConflictReport", "Conformance", "ErrorBody", "Extent", "Feature",
    "FeatureCollection", "KeterpaduanRegion", "KeterpaduanSlumArea", "KeterpaduanSummary", "LandingPage", "Link",
    "OverlapVerdict", "RelatedActivity", "SavedActivity", "SpatialExtent", "TemporalExtent", "TileJSON",
    "VectorLayer", "error_responses",
]
