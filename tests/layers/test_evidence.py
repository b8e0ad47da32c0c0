"""Evidence per progress step (issue 12 item 3): each step its own photo, taken after the previous step's and near
the work; a step whose photo fails a check waits (perlu_verifikasi) until a lurah, the OPD or pokja decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely

from data import data_path
from geo.errors import Conflict, Forbidden, InvalidInput
from layers.accounts.access import Principal
from layers.imports.regions import import_regions
from layers.planning.activities import Catalogue, create_activity, parse_activity
from layers.planning.attachments import Capture, attach
from layers.planning.proposals import public_record, transition, verify_step
from layers.settings import Settings
from tests.layers.test_attachments import photo

ROAD = shapely.LineString([(98.6850, 3.5832), (98.6868, 3.5832)])
KELURAHAN = "12.71.01.1001"


def who(role: str, name: str | None = None) -> Principal:
    area = {"lurah": KELURAHAN, "camat": KELURAHAN[:8]}.get(role)
    return Principal(role=role, username=name or f"{role}1", tenant="12.71", area_code=area,
                     agency="Dinas PU" if role == "opd" else None)


def exif_time(minutes_from_now: float) -> str:
    return (datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes_from_now)).strftime("%Y:%m:%d %H:%M:%S")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(attachments=tmp_path / "files")


@pytest.fixture
def works(conn) -> int:
    """A paving proposal taken to pelaksanaan."""
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_desa_kel.geojson"))
    parsed, _ = parse_activity({"tenant": "12.71", "title": "Paving RT 3", "kind": "jalan_paving", "year_start": 2025,
                                "target_agency": "Dinas PU"}, ROAD, Catalogue.load(conn))
    activity = create_activity(conn, parsed, actor="kepling1", actor_role="kepling").id
    conn.execute("UPDATE activities SET kelurahan_code = %s WHERE id = %s", [KELURAHAN, activity])
    conn.commit()
    for role in ("admin", "admin", "admin", "admin", "admin"):
        transition(conn, who(role), activity, "teruskan")
    return activity


def report(conn, activity: int, step: int) -> dict:
    return transition(conn, who("opd"), activity, "kemajuan", progress=step)


def test_each_step_needs_its_own_photo_near_the_work_taken_after_the_previous(conn, works, settings):
    with pytest.raises(InvalidInput, match="needs a photo of the work of its own"):
        report(conn, works, 0)
    attach(conn, works, "0.jpg", photo(98.6855, 3.58325, taken=exif_time(1)), settings=settings)
    assert report(conn, works, 0)["progress"] == 0
    with pytest.raises(InvalidInput, match="of its own"):  # the step-0 photo does not count again
        report(conn, works, 50)
    with pytest.raises(Conflict, match="report progress 50 % .* before 100 %"):  # no jump from 0 to 100
        attach(conn, works, "100.jpg", photo(98.6856, 3.58325, taken=exif_time(3)), settings=settings)
        report(conn, works, 100)
    result = report(conn, works, 50)  # the newest unused photo (the one above) counts for 50
    assert (result["progress"], result["verification"]["state"]) == (50, "terverifikasi")
    attach(conn, works, "100b.jpg", photo(98.6857, 3.58325, taken=exif_time(5)), settings=settings,
           capture=Capture(progress_step=100))
    assert report(conn, works, 100)["progress"] == 100
    assert [s["state"] for s in public_record(conn, who("admin"), works)["progress_steps"]] == ["terverifikasi"] * 3


def test_a_far_photo_waits_for_verification_and_the_lurah_confirms_it(conn, works, settings):
    attach(conn, works, "0.jpg", photo(98.6855, 3.58325, taken=exif_time(1)), settings=settings)
    report(conn, works, 0)
    # 18 km away, as the proposal that once went to 100 % on one photo
    attach(conn, works, "jauh.jpg", photo(98.85, 3.5832, taken=exif_time(2)), settings=settings)
    pending = report(conn, works, 50)
    assert pending["progress"] == 0 and pending["verification"]["state"] == "perlu_verifikasi"
    assert "m dari lokasi kegiatan" in pending["verification"]["problems"][0]
    with pytest.raises(Conflict, match="waiting for verification"):
        report(conn, works, 100)
    with pytest.raises(Conflict, match="report progress 100 with a photo"):
        transition(conn, who("opd"), works, "teruskan")  # selesai
    with pytest.raises(Forbidden):  # the camat is not one of the verifiers
        verify_step(conn, who("camat"), works, 50, confirm=True, reason="sudah dicek")
    with pytest.raises(Conflict, match="may not verify it"):  # nor whoever reported it
        verify_step(conn, who("opd"), works, 50, confirm=True, reason="foto saya sendiri")
    with pytest.raises(InvalidInput, match="needs a reason"):
        verify_step(conn, who("lurah"), works, 50, confirm=True, reason=" ")
    done = verify_step(conn, who("lurah"), works, 50, confirm=True, reason="Dicek di lapangan: kamera salah GPS")
    assert (done["state"], done["progress"]) == ("dikonfirmasi", 50)
    record = public_record(conn, who("publik"), works)
    assert record["activity"]["progress"] == 50
    step = record["progress_steps"][-1]
    assert (step["state"], step["decided_role"], step["decision_reason"]) == (
        "dikonfirmasi", "lurah", "Dicek di lapangan: kamera salah GPS")
    assert "lurah1" not in str(record)  # roles only, never a name
    assert record["history"][-1]["action"] == "konfirmasi_kemajuan"


def test_an_older_photo_or_none_waits_and_pokja_rejects_it(conn, works, settings):
    attach(conn, works, "0.jpg", photo(98.6855, 3.58325, taken=exif_time(10)), settings=settings)
    report(conn, works, 0)
    attach(conn, works, "lama.jpg", photo(98.6856, 3.58325, taken=exif_time(-60 * 24 * 30)), settings=settings)
    pending = report(conn, works, 50)
    assert pending["verification"]["state"] == "perlu_verifikasi"
    assert "tidak sesudah foto tahap 0 %" in " ".join(pending["verification"]["problems"])
    rejected = verify_step(conn, who("pokja"), works, 50, confirm=False, reason="Foto lama, bukan pekerjaan ini")
    assert (rejected["state"], rejected["progress"]) == ("ditolak", 0)
    # a photo with neither EXIF nor a capture position is not refused: it waits too
    attach(conn, works, "wa.png", _png(), settings=settings)
    pending = report(conn, works, 50)
    assert pending["verification"]["state"] == "perlu_verifikasi"
    assert any("tanpa posisi" in p for p in pending["verification"]["problems"])


def test_the_capture_position_and_time_stand_in_for_missing_exif_and_both_are_kept(conn, works, settings):
    now = datetime.now(UTC)
    record = attach(conn, works, "wa.png", _png(), settings=settings,
                    capture=Capture(lon=98.6855, lat=3.58326, accuracy_m=12, at=now, progress_step=0))
    assert not record["flagged"] and record["position_source"] == "perangkat" and record["lon"] is None
    assert report(conn, works, 0)["verification"]["state"] == "terverifikasi"
    vague = attach(conn, works, "wa2.png", _png(1), settings=settings,
                   capture=Capture(lon=98.6855, lat=3.58326, accuracy_m=900, at=now + timedelta(minutes=5)))
    assert vague["flagged"] and "akurasi lokasi perangkat 900 m" in vague["flag_reason"]
    assert report(conn, works, 50)["verification"]["state"] == "perlu_verifikasi"


def _png(shade: int = 0) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (shade, 80, 80)).save(buffer, "PNG")
    return buffer.getvalue()
