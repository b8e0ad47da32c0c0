"""Who may see which rows: the one place every read (items, tiles, summaries, exports) gets its row filter.

A `Principal` is the caller: an anonymous visitor (`publik`) or a user with one role scoped to an area.
`row_filter` turns it into an SQL predicate on a collection's table alias; queries AND it into their WHERE.
Public without login: regions, slum areas (and their survey units) of a published decree, and activities
(proposals with stage and history; personal fields are never part of a feature).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import sql

ROLES = ("kepling", "lurah", "camat", "opd", "bappeda", "pokja", "konsultan", "admin", "publik")


@dataclass(frozen=True)
class Principal:
    role: str = "publik"
    username: str | None = None
    tenant: str | None = None  # the kab/kota (PP.KK) the user belongs to
    area_code: str | None = None  # Kemendagri code, or a lingkungan/RT label inside a kelurahan
    tenants: tuple[str, ...] = field(default_factory=tuple)  # konsultan: the tenants assigned

    @property
    def is_public(self) -> bool:
        return self.role == "publik"

    def readable_tenants(self) -> tuple[str, ...] | None:
        """Tenants whose non-public rows this caller may read; None means all (admin)."""
        if self.role == "admin":
            return None
        if self.role == "konsultan":
            return self.tenants
        return (self.tenant,) if self.tenant else ()


PUBLIC = Principal()


def row_filter(principal: Principal, collection_id: str, alias: str = "t") -> sql.Composable:
    """SQL predicate selecting the rows of `collection_id` that `principal` may read."""
    tenants = principal.readable_tenants()
    if tenants is None or collection_id in ("regions", "activities"):
        return sql.SQL("TRUE")
    table = sql.Identifier(alias)
    published = {
        "slum-areas": sql.SQL("EXISTS (SELECT 1 FROM decrees pd WHERE pd.id = {}.decree_id AND pd.published)"),
        "survey-units": sql.SQL(
            "EXISTS (SELECT 1 FROM slum_areas ps JOIN decrees pd ON pd.id = ps.decree_id "
            "WHERE ps.id = {}.slum_area_id AND pd.published)"
        ),
    }.get(collection_id)
    own = sql.SQL("{}.tenant = ANY({})").format(table, sql.Literal(list(tenants))) if tenants else sql.SQL("FALSE")
    if published is None:
        return own
    return sql.SQL("({} OR {})").format(published.format(table), own)
