"""Row filters (who reads which rows) on real PostGIS, and permissions (who may change what), role by role."""

from __future__ import annotations

import pytest
from psycopg import sql

from geo.errors import Forbidden, Unauthorized
from layers.accounts.access import PUBLIC, Principal, personal_filter, row_filter
from layers.accounts.permissions import RULES, Target, area_contains, can, decide, normalise_label, require
from tests.two_tenants import seed

A, B = "12.71", "73.07"
PRINCIPALS = {
    "publik": PUBLIC,
    "kepling": Principal(role="kepling", username="kepling.a", tenant=A, area_code=f"{A}.01.1001/Lingkungan 02"),
    "lurah": Principal(role="lurah", username="lurah.a", tenant=A, area_code=f"{A}.01.1001"),
    "camat": Principal(role="camat", username="camat.a", tenant=A, area_code=f"{A}.01"),
    "opd": Principal(role="opd", username="pu.a", tenant=A, area_code=A, agency="Dinas PU"),
    "bappeda": Principal(role="bappeda", username="bappeda.a", tenant=A, area_code=A),
    "pokja": Principal(role="pokja", username="pokja.a", tenant=A, area_code=A),
    "konsultan": Principal(role="konsultan", username="konsultan.a", tenants=(A,)),
    "admin": Principal(role="admin", username="admin"),
}
TABLES = {"regions": "regions", "slum-areas": "slum_areas", "survey-units": "survey_units",
          "activities": "activities"}


def visible(conn, principal: Principal, collection: str) -> set[tuple[str, str]]:
    """(tenant, label) of the rows the principal may read."""
    label = {"regions": "t.code", "slum-areas": "t.kawasan", "survey-units": "t.label",
             "activities": "t.title"}[collection]
    query = sql.SQL("SELECT t.tenant, {} FROM {} t WHERE {}").format(
        sql.SQL(label), sql.Identifier(TABLES[collection]), row_filter(principal, collection))
    return set(conn.execute(query).fetchall())


@pytest.mark.parametrize("role", list(PRINCIPALS))
def test_row_filters_by_role(conn, role):
    seed(conn)
    principal = PRINCIPALS[role]
    reads_own = role != "publik"
    reads_other = role == "admin"
    slum = visible(conn, principal, "slum-areas")
    assert (A, "Kawasan published") in slum and (B, "Kawasan published") in slum  # published: everyone
    assert ((A, "Kawasan unpublished") in slum) is reads_own
    assert ((B, "Kawasan unpublished") in slum) is reads_other
    units = visible(conn, principal, "survey-units")
    assert (A, "Lingkungan 01") in units and (B, "Lingkungan 01") in units  # units of a published decree
    assert ((A, "Lingkungan 02") in units) is reads_own and ((B, "Lingkungan 02") in units) is reads_other
    assert len(visible(conn, principal, "regions")) == 6 and len(visible(conn, principal, "activities")) == 2


def test_a_konsultan_reads_every_tenant_assigned_and_no_other(conn):
    seed(conn)
    both = Principal(role="konsultan", username="k2", tenants=(A, B))
    none = Principal(role="konsultan", username="k0", tenants=())
    assert len(visible(conn, both, "slum-areas")) == 4
    assert visible(conn, none, "slum-areas") == {(A, "Kawasan published"), (B, "Kawasan published")}


def test_personal_fields_only_for_the_own_tenant(conn):
    seed(conn)
    for role, expected in (("publik", set()), ("kepling", {A}), ("konsultan", {A}), ("admin", {A, B})):
        query = sql.SQL("SELECT t.tenant FROM activities t WHERE {} AND t.proposer_phone IS NOT NULL").format(
            personal_filter(PRINCIPALS[role]))
        assert {r[0] for r in conn.execute(query)} == expected, role


# Places a write may concern, seen from the tenant-A principals above.
PLACES = {
    "own": Target(tenant=A, area_code=f"{A}.01.1001", area_label="Lingkungan 02", owner="kepling.a",
                  agency="Dinas PU"),
    "own_by_other": Target(tenant=A, area_code=f"{A}.01.1001", area_label="Lingkungan 2", owner="kepling.b",
                           agency="dinas pu"),
    "lingkungan": Target(tenant=A, area_code=f"{A}.01.1001", area_label="Lingkungan 03", owner="kepling.c",
                         agency="Dinas PU"),
    "kelurahan": Target(tenant=A, area_code=f"{A}.01.1002", area_label="Lingkungan 02", agency="Dinas PU"),
    "kecamatan": Target(tenant=A, area_code=f"{A}.02.1001", area_label="Lingkungan 02", agency="Dinas Perkim"),
    "other_tenant": Target(tenant=B, area_code=f"{B}.01.1001", area_label="Lingkungan 02", owner="kepling.a",
                           agency="Dinas PU"),
}
IN_TENANT = {"own", "own_by_other", "lingkungan", "kelurahan", "kecamatan"}
PLANNERS = {"bappeda": IN_TENANT, "pokja": IN_TENANT}
# Who may do what where (admin: everything, everywhere; publik: nothing). Written out, not derived from RULES.
EXPECTED = {
    "proposal.create": {"kepling": {"own", "own_by_other"}, **PLANNERS},
    "proposal.edit": {"kepling": {"own"}},
    "proposal.verify": {"lurah": {"own", "own_by_other", "lingkungan"},
                        "camat": {"own", "own_by_other", "lingkungan", "kelurahan"}},
    "proposal.review": {"opd": {"own", "own_by_other", "lingkungan", "kelurahan"}},
    "proposal.approve": PLANNERS,
    "overlap.override": PLANNERS,
    "decree.manage": PLANNERS,
    "slum_area.manage": PLANNERS,
    "survey.manage": PLANNERS,
    "audit.read": PLANNERS,
    "export": {role: IN_TENANT for role in ("kepling", "lurah", "camat", "opd", "bappeda", "pokja", "konsultan")},
    "user.manage": {},
    # the asset register: the receiving OPD (its agency), planners; inspections and O&P also the kelurahan's lurah
    "asset.manage": {"opd": {"own", "own_by_other", "lingkungan", "kelurahan"}, **PLANNERS},
    "asset.inspect": {"opd": {"own", "own_by_other", "lingkungan", "kelurahan"},
                      "lurah": {"own", "own_by_other", "lingkungan"}, **PLANNERS},
    "group.manage": {"lurah": {"own", "own_by_other", "lingkungan"}, **PLANNERS},
    # a progress step waiting for verification: the kelurahan's lurah, the target OPD, pokja (not bappeda)
    "progress.verify": {"lurah": {"own", "own_by_other", "lingkungan"},
                        "opd": {"own", "own_by_other", "lingkungan", "kelurahan"}, "pokja": IN_TENANT},
    # plans: the kelurahan's lurah (RPLP/RKM for the BKM) and planners; budget lines: the target OPD and planners
    "plan.manage": {"lurah": {"own", "own_by_other", "lingkungan"}, **PLANNERS},
    "budget.manage": {"opd": {"own", "own_by_other", "lingkungan", "kelurahan"}, **PLANNERS},
}


def test_every_action_has_an_expectation():
    assert set(EXPECTED) == set(RULES)


@pytest.mark.parametrize("action", list(EXPECTED))
def test_permission_matrix(action):
    wrong = []
    for role, principal in PRINCIPALS.items():
        allowed_places = set(PLACES) if role == "admin" else EXPECTED[action].get(role, set())
        for place, target in PLACES.items():
            if can(principal, action, target) != (place in allowed_places):
                wrong.append(f"{role} {place}: {decide(principal, action, target)}")
    assert not wrong, wrong


def test_require_says_401_for_anonymous_and_403_with_the_reason_otherwise():
    with pytest.raises(Unauthorized, match="login required"):
        require(PUBLIC, "proposal.create", PLACES["own"])
    with pytest.raises(Forbidden, match=r"kepling kepling.a works in 12.71.01.1001/Lingkungan 02, which does not "
                                        r"contain 12.71.01.1001/Lingkungan 03"):
        require(PRINCIPALS["kepling"], "proposal.create", PLACES["lingkungan"])
    with pytest.raises(Forbidden, match="works in kab/kota 12.71, not 73.07"):
        require(PRINCIPALS["pokja"], "decree.manage", PLACES["other_tenant"])
    with pytest.raises(Forbidden, match=r"allowed roles: admin, bappeda, pokja"):
        require(PRINCIPALS["konsultan"], "survey.manage", PLACES["own"])
    with pytest.raises(Forbidden, match="only proposal.edit its own proposals"):
        require(PRINCIPALS["kepling"], "proposal.edit", PLACES["own_by_other"])
    with pytest.raises(ValueError, match="unknown action"):
        can(PRINCIPALS["admin"], "proposal.teleport")
    require(PRINCIPALS["admin"], "user.manage")


def test_a_target_without_a_tenant_takes_it_from_its_code():
    assert can(PRINCIPALS["pokja"], "decree.manage", Target(area_code=f"{A}.01.1001"))
    assert not can(PRINCIPALS["pokja"], "decree.manage", Target(area_code=f"{B}.01"))
    assert not can(PRINCIPALS["pokja"], "decree.manage", Target())


@pytest.mark.parametrize(
    ("area", "code", "label", "inside"),
    [
        ("12.71", "12.71.01.1001", None, True),
        ("12.71.01", "12.71.01.1001", "RT 03", True),
        ("12.71.01", "12.71.011.1001", None, False),  # a prefix of text, not of the code
        ("12.71.01", "12.71.02.1001", None, False),
        ("12.71.01.1001", "12.71.01.1001", "Lingkungan 5", True),
        ("12.71.01.1001/Lingkungan 05", "12.71.01.1001", "lingkungan 5", True),
        ("12.71.01.1001/Lingkungan IV", "12.71.01.1001", "Ling. 4", True),
        ("12.71.01.1001/RT 003/RW 01", "12.71.01.1001", "RT 3 / RW 1", True),
        ("12.71.01.1001/Lingkungan 05", "12.71.01.1001", "Lingkungan 15", False),
        ("12.71.01.1001/Lingkungan 05", "12.71.01.1001", None, False),
        ("12.71.01.1001/Lingkungan 05", "12.71.01.1002", "Lingkungan 05", False),
        ("12.71", None, None, False),
        (None, "12.71", None, False),
    ],
)
def test_area_containment(area, code, label, inside):
    assert area_contains(area, code, label) is inside


def test_label_normalisation():
    assert normalise_label("Lingkungan 02") == normalise_label("LINGKUNGAN  2") == normalise_label("Ling. II")
    assert normalise_label("Lingkungan 02") == "lingkungan 2"
    assert normalise_label("Dusun III") != normalise_label("Dusun 4")
