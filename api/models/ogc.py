"""OGC API Features documents: landing page, conformance, collections, one collection, GeoJSON features.

Field names are those of OGC API - Features Part 1 (GDAL, QGIS and OWSLib read them). The models allow extra
keys: the standards allow them, and a key added by the code reaches clients instead of being dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = int | float  # kept as written: an int stays 5, a float stays 5.0


class OgcModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(OgcModel):
    rel: str = Field(examples=["self"])
    type: str | None = Field(None, examples=["application/json"])
    title: str | None = None
    href: str


class LandingPage(OgcModel):
    """`GET /`: what the service is and where its parts are (service-desc, conformance, data ...)."""

    title: str
    description: str | None = None
    links: list[Link]


class Conformance(OgcModel):
    """`GET /conformance`: the conformance classes implemented and tested."""

    conforms_to: list[str] = Field(alias="conformsTo")

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class SpatialExtent(OgcModel):
    bbox: list[list[Number]] = Field(description="minLon, minLat, maxLon, maxLat")
    crs: str | None = None


class TemporalExtent(OgcModel):
    interval: list[list[str | None]] = Field(description="[start, end] in RFC 3339; null is open")
    trs: str | None = None


class Extent(OgcModel):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(OgcModel):
    """`GET /collections/{collection_id}` (and each entry of `/collections`)."""

    id: str = Field(examples=["slum-areas"])
    title: str | None = None
    description: str | None = None
    item_type: str | None = Field(None, alias="itemType")
    crs: list[str] | None = None
    storage_crs: str | None = Field(None, alias="storageCrs")
    extent: Extent | None = None
    links: list[Link]

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class Collections(OgcModel):
    """`GET /collections`: the feature collections offered."""

    links: list[Link]
    collections: list[Collection]


class Feature(OgcModel):
    """A GeoJSON Feature (geometry in CRS84 longitude, latitude)."""

    type: Literal["Feature"]
    id: int | str | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None
    links: list[Link] | None = None


class FeatureCollection(OgcModel):
    """`GET /collections/{collection_id}/items` (streamed): a page of features."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    number_matched: int | None = Field(None, alias="numberMatched")
    number_returned: int | None = Field(None, alias="numberReturned")
    links: list[Link] | None = None

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)
