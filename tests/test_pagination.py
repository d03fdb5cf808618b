"""Every list endpoint pages its results and caps `page_size`; values that are not a whole number
in range are a 400 in the one error shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def list_endpoints() -> list[str]:
    """Every `*-list` route of the API router that answers GET."""
    from allocation_portal.api_router import router

    urls = []
    for prefix, viewset, _basename in router.registry:
        if hasattr(viewset, "list"):
            urls.append(f"/api/v1/{prefix}/")
    return urls


def test_the_list_endpoints_are_all_here():
    assert len(list_endpoints()) >= 12


@pytest.mark.parametrize("url", list_endpoints())
@pytest.mark.parametrize("value", ["null", "-1", "0", "201", "100000", "99999999999999999999", "abc", "1e3", "", "1.5", "١"])
def test_an_invalid_page_size_is_a_400(world, served, url, value):
    # A reviewer's own assignments are the reviewer's list; every other list is MSIT's.
    response = served.api(world.reviewer if url == "/api/v1/reviews/" else world.admin).get(url, {"page_size": value})
    assert response.status_code == 400, (url, value, response.status_code)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and "page_size" in error["fields"]
    assert "200" in error["fields"]["page_size"][0]


@pytest.mark.parametrize("value", ["null", "-1", "0", "abc", ""])
def test_an_invalid_page_number_is_a_400(world, served, value):
    response = served.api(world.admin).get("/api/v1/projects/", {"page": value})
    assert response.status_code == 400 and "page" in response.json()["error"]["fields"]


def test_a_page_past_the_last_is_a_404(world, served):
    response = served.api(world.admin).get("/api/v1/projects/", {"page": 99})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_valid_page_sizes_are_used(world, served):
    api = served.api(world.admin)
    first = api.get("/api/v1/projects/", {"page_size": 1}).json()
    assert first["count"] == 3 and len(first["results"]) == 1 and first["next"]
    assert len(api.get("/api/v1/projects/", {"page_size": 200}).json()["results"]) == 3
    assert api.get("/api/v1/projects/", {"page": "last", "page_size": 2}).status_code == 200
