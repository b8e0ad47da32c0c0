"""TileJSON 3.0.0 (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0), as `/tiles/{id}/tilejson.json`
answers it; MapLibre, Leaflet plug-ins and QGIS read it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Number = int | float  # kept as written: an int stays 5, a float stays 5.0


class VectorLayer(BaseModel):
    """One MVT layer of the tiles (its id is the collection id)."""

    model_config = ConfigDict(extra="allow")

    id: str
    description: str | None = None
    minzoom: int | None = None
    maxzoom: int | None = None
    fields: dict[str, str] = Field(description="attribute name -> Number, String or Boolean")


class TileJSON(BaseModel):
    """TileJSON 3.0.0 of a collection's XYZ tiles (`vector_layers` for MVT, absent for PNG)."""

    model_config = ConfigDict(extra="allow")

    tilejson: str = Field(examples=["3.0.0"])
    name: str | None = None
    description: str | None = None
    version: str | None = None
    attribution: str | None = None
    scheme: str | None = Field(None, examples=["xyz"])
    tiles: list[str] = Field(description="URL templates with {z}, {x}, {y}")
    minzoom: int | None = None
    maxzoom: int | None = None
    bounds: list[Number] | None = Field(None, description="west, south, east, north (WGS 84)")
    center: list[Number] | None = Field(None, description="longitude, latitude, zoom")
    vector_layers: list[VectorLayer] | None = None
