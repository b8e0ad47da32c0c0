"""Who may see which rows: the one place every read (items, tiles, summaries, exports) gets its row filter.

A `Principal` is the caller: an anonymous visitor (`publik`) or a user with one role scoped to an area.
`row_filter` turns it into an SQL predicate on a collection's table alias; queries AND it into their WHERE.
Public without login: regions, slum areas (and their survey units) of a published decree, and activities
(proposals with stage and history). Personal data (proposer names and phone numbers) is never public: select
those columns through `personal_filter` (e.g. `CASE WHEN {personal_filter} THEN t.proposer_name END`).
What a caller may *change* is decided in layers/accounts/permissions.py.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from psycopg import sql

ROLES = ("kepling", "lurah", "camat", "opd", "bappeda", "pokja", "konsultan", "admin", "publik")
AREA_LABEL_SEPARATOR = "/"  # kepling areas: '12.71.01.1001/Lingkungan 02' (kelurahan code / lingkungan or RT)

# Collections whose every row is public, and those public under a condition (the rest: own tenants only).
ALWAYS_PUBLIC = frozenset({"regions", "activities", "assets"})  # assets: the public record of works (no personal data)
PUBLIC_WHEN = {  # templates: {} is the table alias
    "slum-areas": sql.SQL("EXISTS (SELECT 1 FROM decrees pd WHERE pd.id = {}.decree_id AND pd.published)"),
    "survey-units": sql.SQL(
        "EXISTS (SELECT 1 FROM slum_areas ps JOIN decrees pd ON pd.id = ps.decree_id "
        "WHERE ps.id = {}.slum_area_id AND pd.published)"
    ),
}


@dataclass(frozen=True)
class Principal:
    role: str = "publik"
    username: str | None = None
    tenant: str | None = None  # the kab/kota (PP.KK) the user belongs to
    area_code: str | None = None  # Kemendagri code, or a lingkungan/RT label inside a kelurahan (see below)
    tenants: tuple[str, ...] = field(default_factory=tuple)  # konsultan: the tenants assigned
    agency: str | None = None  # opd: the agency (OPD) proposals are sent to, e.g. 'Dinas PU'

    @property
    def is_public(self) -> bool:
        return self.role == "publik"

    @property
    def region_code(self) -> str | None:
        """The Kemendagri code of the area ('12.71.01.1001' for a kepling's '12.71.01.1001/Lingkungan 02')."""
        if not self.area_code:
            return None
        return self.area_code.split(AREA_LABEL_SEPARATOR, 1)[0]

    @property
    def area_label(self) -> str | None:
        """The lingkungan/RT label inside the kelurahan (kepling only), else None."""
        if not self.area_code or AREA_LABEL_SEPARATOR not in self.area_code:
            return None
        return self.area_code.split(AREA_LABEL_SEPARATOR, 1)[1]

    def readable_tenants(self) -> tuple[str, ...] | None:
        """Tenants whose non-public rows this caller may read; None means all (admin)."""
        if self.role == "admin":
            return None
        if self.role == "konsultan":
            return self.tenants
        return (self.tenant,) if self.tenant else ()

    def reads_tenant(self, tenant: str | None) -> bool:
        """Whether the non-public rows of `tenant` are readable by this caller."""
        tenants = self.readable_tenants()
        return tenants is None or (tenant is not None and tenant in tenants)


PUBLIC = Principal()


def cli_principal() -> Principal:
    """Who the `kotaku` command (and a layer function called without a caller) acts as: the operating-system
    user, with admin rights, since whoever runs it holds the database anyway. The audit trail names it 'cli:USER'."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Principal(role="admin", username=f"cli:{name}")


def _own(principal: Principal, alias: str, tenant_column: str = "tenant") -> sql.Composable:
    tenants = principal.readable_tenants()
    if tenants is None:
        return sql.SQL("TRUE")
    if not tenants:
        return sql.SQL("FALSE")
    return sql.SQL("{}.{} = ANY({})").format(sql.Identifier(alias), sql.Identifier(tenant_column),
                                             sql.Literal(list(tenants)))


def row_filter(principal: Principal, collection_id: str, alias: str = "t") -> sql.Composable:
    """SQL predicate selecting the rows of `collection_id` that `principal` may read."""
    if principal.readable_tenants() is None or collection_id in ALWAYS_PUBLIC:
        return sql.SQL("TRUE")
    own = _own(principal, alias)
    published = PUBLIC_WHEN.get(collection_id)
    if published is None:
        return own
    return sql.SQL("({} OR {})").format(published.format(sql.Identifier(alias)), own)


def personal_filter(principal: Principal, alias: str = "t", tenant_column: str = "tenant") -> sql.Composable:
    """SQL predicate: may the caller see the personal fields (proposer name, phone) of this row? Own tenants only,
    never the public."""
    return _own(principal, alias, tenant_column)
