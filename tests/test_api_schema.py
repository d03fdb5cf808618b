"""The OpenAPI schema tells the truth, and no input the schema can describe (or nearly describe)
gives a server error: a bounded, deterministic Schemathesis run over every operation of the API,
as each role and as an anonymous caller.

Each generated request runs in a savepoint that is rolled back, so every example sees the same
world and the run does not depend on the order of examples."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories as f

pytestmark = pytest.mark.django_db

ROLES = ["admin", "official", "applicant", "auditor", "anonymous"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Examples per operation and role: a third valid per the schema, a third not, a third on the
# world's real objects (so detail routes get past their 404).
EXAMPLES = 3
FAILURE_CHARS = 900


@pytest.fixture(scope="module")
def raw_schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_has_no_colliding_components(raw_schema):
    components = raw_schema["components"]["schemas"]
    assert "LoanProposal" in components and "RedistributionProposal" in components
    assert "Proposal" not in components


def test_capacity_is_documented_as_the_object_it_returns(raw_schema, world, api_for):
    documented = raw_schema["paths"]["/api/v1/capacity/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert documented == {"$ref": "#/components/schemas/CapacityReport"}
    body = api_for(world.admin).get("/api/v1/capacity/").json()
    assert isinstance(body, dict) and set(body) == set(raw_schema["components"]["schemas"]["CapacityReport"]["properties"])


def test_error_responses_are_documented_where_they_happen(raw_schema):
    paths = raw_schema["paths"]
    assert {"400", "401", "403", "404", "409"} <= set(paths["/api/v1/reports/{id}/accept/"]["post"]["responses"])
    assert {"400", "409", "413"} <= set(paths["/api/v1/reports/upload/"]["post"]["responses"])
    assert "404" in paths["/api/v1/projects/"]["get"]["responses"]  # a page past the last
    assert "401" not in paths["/api/v1/lending/calendar/"]["get"]["responses"]  # public
    assert "503" in paths["/api/v1/checks/"]["post"]["responses"]
    error = paths["/api/v1/reports/"]["post"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def rich_world(world, clock):
    """The role world with one of each object the API has a detail route for."""
    from allocation_portal.models import AuditEvent
    from lending import services as lending_services
    from monitoring import reclamation
    from monitoring.models import Notification, RedistributionProposal
    from monitoring.services import report_save
    from tests.lending.conftest import request_values
    from tests.monitoring.conftest import values

    report = report_save(actor=world.official, project=world.project_a, month=dt.date(2026, 8, 1), values=values(),
                         submit=True)
    loan_request = lending_services.request_submit(actor=world.applicant, values=request_values())
    loan = f.make_loan(world.org_a)
    case = reclamation.off_purpose_open(actor=world.admin, project=world.project_a, month=dt.date(2026, 8, 1),
                                        note="evidence", proposed=None)
    proposal = RedistributionProposal.objects.create(rank=1, kind="loan_request", loan_request=loan_request)
    for user in (world.admin, world.official, world.applicant, world.auditor):
        Notification.objects.create(user=user, kind="report_returned", title="t", body="b", url="/", dedup_key="k")
    by_prefix = {
        "/api/v1/projects/": {"code": world.project_a.code},
        "/api/v1/ministries/": {"code": world.ministry_a.code},
        "/api/v1/providers/": {"code": world.cluster.provider.code},
        "/api/v1/clusters/": {"code": world.cluster.code},
        "/api/v1/allocations/": {"id": str(world.allocation_a.public_id)},
        "/api/v1/audit-events/": {"id": str(AuditEvent.objects.first().public_id)},
        "/api/v1/reports/": {"id": str(report.public_id)},
        "/api/v1/loan-requests/": {"id": str(loan_request.public_id)},
        "/api/v1/loans/": {"id": str(loan.public_id)},
        "/api/v1/cases/": {"id": str(case.public_id)},
        "/api/v1/redistribution/proposals/": {"id": str(proposal.public_id)},
    }
    return world, by_prefix


def real_path_parameters(path: str, by_prefix: dict) -> dict | None:
    for prefix, parameters in by_prefix.items():
        if path.startswith(prefix) and "{" in path:
            return parameters
    return None


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, serving the test database: the per-request connection closing
    that a real server wants would close the test's transaction, so it is off (as in Django's
    own test client)."""
    from django.core.handlers.wsgi import WSGIHandler

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Rollback(Exception):
    pass


@pytest.mark.parametrize("role", ROLES)
def test_no_input_gives_a_server_error_or_breaks_the_schema(raw_schema, rich_world, wsgi_app, api_for, role):
    world, by_prefix = rich_world
    schema = schemathesis.openapi.from_dict(raw_schema)
    headers = {"Accept-Language": "en"}
    user = world.user(role)
    if user is not None:
        from rest_framework.authtoken.models import Token

        headers["Authorization"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"

    failures: list[str] = []
    calls = 0
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)]
        try:
            strategies.append(operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        except Exception:  # noqa: BLE001, S110 - an operation with nothing to negate
            pass
        real = real_path_parameters(operation.path, by_prefix)
        if real is not None:
            strategies.append(operation.as_strategy(path_parameters=real))

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=st.one_of(strategies))
        def exercise(case):
            nonlocal calls
            calls += 1
            try:
                with transaction.atomic():
                    response = case.call(app=wsgi_app, base_url="http://localhost", headers=headers)
                    case.validate_response(response, checks=CHECKS)
                    raise Rollback
            except Rollback:
                pass

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:FAILURE_CHARS])
    elapsed = time.perf_counter() - started
    print(f"schemathesis as {role}: {calls} requests over {len(list(schema.get_all_operations()))} operations "
          f"in {elapsed:.1f} s")
    assert calls >= 2 * 60
    assert not failures, "\n\n".join(failures)
