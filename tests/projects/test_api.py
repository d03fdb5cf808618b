"""The REST API: scoped lists, filters, pagination, the one error shape, token auth, pinned query counts."""

import datetime as dt

import pytest

from allocation_portal.models import AuditEvent
from gpus.models import Allocation
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_officials_see_only_their_ministry(world, api_for):
    codes = [p["code"] for p in api_for(world.official).get("/api/v1/projects/").json()["results"]]
    assert codes == ["PA-001", "PA-002"]
    assert api_for(world.official).get(f"/api/v1/projects/{world.project_b.code}/").status_code == 404


def test_every_project_carries_its_sample_flag(world, api_for):
    f.make_project(world.ministry_a, code="PA-SAMPLE", is_sample=True)
    rows = {p["code"]: p for p in api_for(world.admin).get("/api/v1/projects/").json()["results"]}
    assert rows["PA-SAMPLE"]["is_sample"] is True and rows["PA-001"]["is_sample"] is False
    assert "is_sample" in rows["PA-001"]["ministry"]


@pytest.mark.parametrize(
    "query, codes",
    [
        ("ministry=minb", ["PB-001"]),
        ("status=planned", ["PA-002"]),
        ("start_month=2026-12", ["PA-002"]),
        ("q=PB", ["PB-001"]),
        ("q=가부", ["PA-001", "PA-002"]),
    ],
)
def test_projects_filter(world, api_for, query, codes):
    body = api_for(world.admin).get(f"/api/v1/projects/?{query}").json()
    assert [p["code"] for p in body["results"]] == codes


def test_project_rows_show_gpus_held_now(world, api_for):
    body = api_for(world.admin).get(f"/api/v1/projects/{world.project_a.code}/").json()
    assert body["gpus_held"] == 16 and body["servers_awarded"] == 3


@pytest.mark.parametrize(
    "query, field",
    [("start_month=2026-13", "start_month"), ("status=flying", "status"), ("ministry=nowhere", "ministry")],
)
def test_bad_filters_get_the_one_error_shape(world, api_for, query, field):
    response = api_for(world.admin).get(f"/api/v1/projects/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"] and error["message"]


def test_lists_paginate(world, api_for):
    for _ in range(5):
        f.make_project(world.ministry_a)
    body = api_for(world.admin).get("/api/v1/projects/?page_size=3").json()
    assert body["count"] == 8 and len(body["results"]) == 3 and body["next"]
    assert api_for(world.admin).get("/api/v1/projects/?page=99").status_code == 404


@pytest.mark.parametrize("extra", [0, 20])
def test_project_list_runs_constant_queries(world, api_for, django_assert_num_queries, extra):
    for _ in range(extra):
        f.make_project(world.ministry_b)
    api = api_for(world.admin)
    # token lookup + count + page
    with django_assert_num_queries(3):
        assert api.get("/api/v1/projects/").status_code == 200


@pytest.mark.parametrize("extra", [0, 15])
def test_other_lists_run_constant_queries(world, api_for, django_assert_num_queries, extra):
    for _ in range(extra):
        p = f.make_project(world.ministry_b, gpus=8)
        f.award(p, [f.make_cluster(servers=1).servers.get()])
    api = api_for(world.admin)
    for url, queries in [
        ("/api/v1/ministries/", 3),
        ("/api/v1/allocations/", 4),
        ("/api/v1/clusters/", 3),
        ("/api/v1/providers/", 3),
        ("/api/v1/audit-events/", 3),
        ("/api/v1/capacity/", 5),  # clusters, pools, GPUs, holdings (+ token)
    ]:
        with django_assert_num_queries(queries):
            assert api.get(url).status_code == 200, url


def test_capacity_endpoint(world, api_for):
    body = api_for(world.official).get("/api/v1/capacity/?date=2026-06-01").json()
    assert body["totals"]["total"] == 64
    assert body["totals"]["awarded"] == 32
    assert body["totals"]["held_started"] == 24
    assert body["totals"]["idle"] == 8
    bad = api_for(world.official).get("/api/v1/capacity/?date=2026-02-31")
    assert bad.status_code == 400 and "date" in bad.json()["error"]["fields"]


def test_award_and_release_through_the_api(world, api_for):
    api = api_for(world.admin)
    response = api.post(
        f"/api/v1/projects/{world.project_a.code}/award/",
        {"cluster": world.cluster.code, "server_count": 1, "starts_on": "2026-12-01", "ends_on": "2027-02-28",
         "reason": "more GPUs"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert entry["gpu_count"] == 8 and entry["project"] == "PA-001" and len(entry["servers"]) == 1
    # The award is now full (24 GPUs): one more server is refused with the error shape.
    again = api.post(
        f"/api/v1/projects/{world.project_a.code}/award/",
        {"cluster": world.cluster.code, "server_count": 1, "starts_on": "2026-12-01", "ends_on": "2027-02-28",
         "reason": "more"},
        format="json",
    )
    assert again.status_code == 400 and again.json()["error"]["fields"]["server_count"]
    release = api.post(f"/api/v1/allocations/{entry['id']}/release/", {"reason": "not needed"}, format="json")
    assert release.status_code == 200 and release.json()["released_at"]
    twice = api.post(f"/api/v1/allocations/{entry['id']}/release/", {"reason": "again"}, format="json")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "state_conflict"


def test_partial_release_through_the_api(world, api_for):
    api = api_for(world.admin)
    server = world.allocation_a.gpu_rows.select_related("gpu__server").first().gpu.server.hostname
    response = api.post(
        f"/api/v1/allocations/{world.allocation_a.public_id}/release/",
        {"reason": "reclaim one", "servers": [server], "at": "2027-01-01T00:00:00+09:00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    continuation = Allocation.objects.get(parent=world.allocation_a)
    assert continuation.gpu_count == 8
    bad = api.post(
        f"/api/v1/allocations/{continuation.public_id}/release/",
        {"reason": "x", "servers": ["not-a-server"]},
        format="json",
    )
    assert bad.status_code == 400 and "servers" in bad.json()["error"]["fields"]


def test_conflicting_award_is_409(world, api_for):
    api = api_for(world.admin)
    p = f.make_project(world.ministry_a, gpus=64)
    response = api.post(
        f"/api/v1/projects/{p.code}/award/",
        {"cluster": world.cluster.code, "server_count": 8, "starts_on": "2026-06-01", "ends_on": "2026-07-01",
         "reason": "too many"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "capacity_conflict"
    assert not AuditEvent.objects.filter(object_id=p.code).exists()


def test_validation_errors_list_fields(world, api_for):
    response = api_for(world.admin).post(
        f"/api/v1/projects/{world.project_a.code}/award/",
        {"cluster": "nope", "server_count": 0, "starts_on": "2026-06-02", "ends_on": "2026-06-01"},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"cluster", "server_count", "reason"} <= set(fields)


def test_session_auth_needs_csrf_for_writes(world):
    from rest_framework.test import APIClient

    api = APIClient(enforce_csrf_checks=True)
    f.sign_in(api, world.admin)
    response = api.post(f"/api/v1/allocations/{world.allocation_a.public_id}/release/", {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_the_schema_documents_the_api(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/projects/{code}/award/" in schema["paths"]
    assert "/api/v1/capacity/" in schema["paths"]


def test_unknown_api_paths_answer_in_the_error_shape(world, api_for, settings):
    settings.DEBUG = False
    response = api_for(world.admin).get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_dates_are_kst(world, api_for):
    body = api_for(world.admin).get(f"/api/v1/allocations/{world.allocation_a.public_id}/").json()
    assert body["starts_at"].endswith("+09:00")
    assert dt.datetime.fromisoformat(body["starts_at"]).date() == dt.date(2026, 4, 1)
