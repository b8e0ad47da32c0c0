"""`GET /tenants/{tenant}/keterpaduan`: programme integration per slum area and rolled up per kelurahan, kecamatan
and kab/kota (layers/keterpaduan/summary.py, `as_json`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Number = int | float  # kept as written: an int stays 5, a float stays 5.0
# Money has three states that are never added up (KOTAKU brief 10):
PROPOSED = "rupiah proposed and not yet budgeted: cost estimates of live activities without a budget line"
BUDGETED = "rupiah allocated by the budget lines (DPA) of live activities"
REALISED = "rupiah realised by those budget lines"


class KeterpaduanMoney(BaseModel):
    """The kab/kota's money of one year and funding source (the budget line's year and source; a proposal's own)."""

    year: int
    funding_source: str
    proposed_cost: Number = Field(description=PROPOSED)
    budgeted: Number = Field(description=BUDGETED)
    realised: Number = Field(description=REALISED)


class KeterpaduanSlumArea(BaseModel):
    """One slum area of the decree: place, score and level now and once the planned work is done, its live
    activities, programmes, funding and the criteria still to handle."""

    slum_area_id: int
    kawasan: str | None
    unit_label: str | None
    decree: str | None
    kelurahan_code: str | None
    kelurahan: str | None
    kecamatan_code: str | None
    kecamatan: str | None
    area_ha: Number | None
    level: str | None = Field(description="slum level now (latest surveyed round, else the decree)")
    total_score: int | None
    scheme: str | None
    round: str | None = Field(description="survey round the level comes from, 'SK' for the decree")
    score_source: Literal["SK", "survei"] | None = Field(
        description="SK: the level (and score) stated in the decree; survei: computed from survey volumes")
    projected_level: str | None = Field(description="level once the live and completed work is done")
    projected_total: int | None
    activities: int
    activities_completed: int
    programs: dict[str, int] = Field(description="live activities per programme code")
    proposed_cost: Number = Field(description=PROPOSED)
    budgeted: Number = Field(description=BUDGETED)
    realised: Number = Field(description=REALISED)
    proposed_by_source: dict[str, Number] = Field(description="proposed_cost per funding source code")
    budgeted_by_source: dict[str, Number] = Field(description="budgeted per funding source code")
    realised_by_source: dict[str, Number] = Field(description="realised per funding source code")
    criteria_addressed: list[str]
    criteria_remaining: list[str] = Field(description="criteria scoring 3 or 5 in the latest round")
    criteria_gap: list[str] = Field(description="remaining criteria no live activity addresses")
    collaborations: int
    volumes_not_counted: int
    year_first: int | None
    year_last: int | None


class KeterpaduanRegion(BaseModel):
    """A kelurahan, kecamatan or the kab/kota: hectares by level (by the slum-area/kelurahan overlap shares),
    activities, programmes and money in its three states. A kab/kota with nothing loaded carries only the required
    fields."""

    code: str
    name: str | None = None
    slum_areas: int
    slum_area_ha: Number | None = None
    slum_ha: Number | None = Field(None, description="hectares still slum (level other than tidak kumuh)")
    projected_slum_ha: Number | None = None
    leaving_slum_ha: Number | None = None
    ha_by_level: dict[str, Number] | None = None
    projected_ha_by_level: dict[str, Number] | None = None
    activities: int
    activities_in_slum_areas: int | None = None
    activities_completed: int | None = None
    proposed_cost: Number = Field(description=PROPOSED)
    budgeted: Number = Field(description=BUDGETED)
    realised: Number = Field(description=REALISED)
    proposed_cost_in_slum_areas: Number | None = None
    budgeted_in_slum_areas: Number | None = None
    realised_in_slum_areas: Number | None = None
    programs: dict[str, int]
    proposed_by_source: dict[str, Number]
    budgeted_by_source: dict[str, Number]
    realised_by_source: dict[str, Number]
    collaborations: int | None = None


class KeterpaduanSummary(BaseModel):
    """The tenant's keterpaduan for its newest visible decree (or the one asked for)."""

    tenant: str = Field(examples=["12.71"])
    decree: str | None = Field(description="the decree (SK kumuh) number, null when no slum area is visible")
    slum_areas: list[KeterpaduanSlumArea]
    kelurahan: list[KeterpaduanRegion]
    kecamatan: list[KeterpaduanRegion]
    kabkota: KeterpaduanRegion
    by_year: list[KeterpaduanMoney] = Field(description="money per year and funding source, three states apart")
