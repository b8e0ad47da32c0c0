"""The planning chain, step by step, with the roles of data/reference/workflow.csv."""

from __future__ import annotations

import pytest
import shapely

from data import data_path
from geo.errors import Conflict, Forbidden, InvalidInput
from layers.accounts.access import Principal
from layers.imports.regions import import_regions
from layers.planning.activities import Catalogue, create_activity, parse_activity
from layers.planning.workflow import apply_transition, history

ROAD = shapely.LineString([(98.6850, 3.5832), (98.6868, 3.5832)])


def who(role: str) -> Principal:
    return Principal(role=role, username=f"{role}1", tenant="12.71")


@pytest.fixture
def proposal(conn) -> int:
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_desa_kel.geojson"))
    parsed, _ = parse_activity({"tenant": "12.71", "title": "Paving RT 3", "kind": "jalan_paving", "year_start": 2025},
                               ROAD, Catalogue.load(conn))
    return create_activity(conn, parsed, actor="kepling1", actor_role="kepling").id


def _photo(conn, activity_id: int) -> None:
    """A photo that passes the checks of its step (layers/planning/evidence.py): at the work, taken just now."""
    conn.execute("INSERT INTO activity_attachments (activity_id, file_name, stored_path, media_type, size_bytes, "
                 "sha256, capture_lon, capture_lat, captured_at, distance_m, flagged, uploaded_at) VALUES (%s, "
                 "'a.jpg', 'x', 'image/jpeg', 1, md5(clock_timestamp()::text), 98.6855, 3.5832, clock_timestamp(), 1, "
                 "false, clock_timestamp())",
                 [activity_id])
    conn.commit()


def test_the_whole_chain_to_asset_handover(conn, proposal):
    steps = [("teruskan", "lurah"), ("teruskan", "camat"), ("teruskan", "opd"), ("teruskan", "bappeda"),
             ("teruskan", "opd")]
    for action, role in steps:
        apply_transition(conn, proposal, action, who(role))
    with pytest.raises(InvalidInput, match="needs a photo"):
        apply_transition(conn, proposal, "kemajuan", who("opd"), progress=0)
    _photo(conn, proposal)
    apply_transition(conn, proposal, "kemajuan", who("opd"), progress=0)
    _photo(conn, proposal)
    apply_transition(conn, proposal, "kemajuan", who("opd"), progress=50)
    with pytest.raises(Conflict, match="at 50 %"):
        apply_transition(conn, proposal, "teruskan", who("opd"))
    _photo(conn, proposal)
    apply_transition(conn, proposal, "kemajuan", who("opd"), progress=100)
    apply_transition(conn, proposal, "teruskan", who("opd"))
    done = apply_transition(conn, proposal, "teruskan", who("pokja"))
    assert (done["stage"], done["status"], done["progress"]) == ("serah_terima", "selesai", 100)
    stages = [e["to_stage"] for e in history(conn, proposal)]
    assert stages == ["rembuk_warga", "musrenbang_kelurahan", "musrenbang_kecamatan", "renja_opd", "rkpd",
                      "pelaksanaan", "pelaksanaan", "pelaksanaan", "pelaksanaan", "selesai", "serah_terima"]


def test_a_step_out_of_order_or_by_the_wrong_role_is_refused(conn, proposal):
    with pytest.raises(Conflict, match="step out of order.*possible steps: batalkan, kembalikan, teruskan, tolak"):
        apply_transition(conn, proposal, "kemajuan", who("opd"), progress=50)
    with pytest.raises(Forbidden, match="for lurah, admin, not for role camat"):
        apply_transition(conn, proposal, "teruskan", who("camat"))


def test_reject_needs_a_reason_and_ends_the_chain(conn, proposal):
    with pytest.raises(InvalidInput, match="needs a reason"):
        apply_transition(conn, proposal, "tolak", who("lurah"))
    apply_transition(conn, proposal, "tolak", who("lurah"), reason="Lokasi di luar kawasan kumuh")
    with pytest.raises(Conflict, match="status 'ditolak'"):
        apply_transition(conn, proposal, "teruskan", who("lurah"))
    assert history(conn, proposal)[-1]["reason"] == "Lokasi di luar kawasan kumuh"


def test_returned_proposals_stay_live_and_can_be_resubmitted(conn, proposal):
    apply_transition(conn, proposal, "kembalikan", who("lurah"), reason="Lengkapi foto lokasi")
    parsed, _ = parse_activity({"tenant": "12.71", "title": "Paving CSR", "kind": "jalan_paving",
                                "year_start": 2025, "funding_source": "CSR"}, ROAD, Catalogue.load(conn))
    with pytest.raises(Conflict):  # a returned proposal is being fixed, not dropped: it still blocks duplicates
        create_activity(conn, parsed)
    assert apply_transition(conn, proposal, "ajukan_ulang", who("kepling"))["status"] == "aktif"


def test_reactivating_a_rejected_proposal_meets_the_overlap_check_again(conn, proposal):
    apply_transition(conn, proposal, "tolak", who("lurah"), reason="Belum prioritas")
    parsed, _ = parse_activity({"tenant": "12.71", "title": "Paving CSR", "kind": "jalan_paving",
                                "year_start": 2025, "funding_source": "CSR"}, ROAD, Catalogue.load(conn))
    other = create_activity(conn, parsed)  # allowed: the rejected one is not live
    with pytest.raises(Conflict, match=f"overlaps live activity {other.id}"):
        apply_transition(conn, proposal, "aktifkan_kembali", who("pokja"), reason="Dana CSR batal")
    conn.execute("UPDATE activities SET status = 'dibatalkan' WHERE id = %s", [other.id])
    conn.commit()
    assert apply_transition(conn, proposal, "aktifkan_kembali", who("pokja"), reason="Dana CSR batal")["status"] \
        == "aktif"
