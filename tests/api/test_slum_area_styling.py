"""Slum-area features carry the current level, total score and priority class that maps style by: the values
of the scoring cache (slum_area_status), not the score stated in the decree's file."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app


def test_items_carry_the_current_level_score_and_priority(demo_url, demo_conn):
    expected = {row[0]: row[1:] for row in demo_conn.execute(
        "SELECT slum_area_id, level, total_score, priority_class FROM slum_area_status")}
    stated = dict(demo_conn.execute("SELECT id, (attributes->>'skor_kumuh')::numeric FROM slum_areas"))
    with TestClient(create_app(demo_url)) as client:
        body = client.get("/collections/slum-areas/items", params={"limit": 100}).json()
    assert body["numberReturned"] == len(expected) == 60
    for feature in body["features"]:
        properties = feature["properties"]
        level, score, priority = expected[properties["id"]]
        assert (properties["level"], properties["score"], properties["priority"]) == (level, float(score), priority)
    # the surveys, not the decree's stated score, decide: the 2023 round improved most areas
    changed = [f for f in body["features"] if f["properties"]["score"] != float(stated[f["properties"]["id"]])]
    assert len(changed) > 30
