"""A GET never writes: every page and endpoint of the permission matrix that answers GET, as every
role, runs no INSERT, UPDATE or DELETE (sessions aside: logging in is not a GET)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ROLES
from tests.test_permission_matrix import ROUTES, matrix_world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|TRUNCATE)\b", re.IGNORECASE)
SESSIONS = '"portal_session"'  # the session engine's table (allocation_portal.sessions)
GETS = sorted(name for name, (_names, method, *_rest) in ROUTES.items() if method == "get")


@pytest.mark.parametrize("role", ROLES)
def test_no_get_writes(matrix_world, client_for, api_for, role):  # noqa: F811 - the fixture
    world = matrix_world
    user = world.user(role)
    writes = []
    for name in GETS:
        _names, _method, url, _data, is_api, *_rest = ROUTES[name]
        client = api_for(user) if is_api else client_for(user)
        address = url(world)  # a route's own set-up (the colleague People shows) is not the GET's
        with CaptureQueriesContext(connection) as queries:
            client.get(address)
        writes += [(name, q["sql"][:120]) for q in queries.captured_queries
                   if WRITE.match(q["sql"]) and SESSIONS not in q["sql"]]
    assert writes == []
