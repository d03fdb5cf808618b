"""Hostile input gets the one error shape (API) or a page with the error (HTML), never a 500.

Requests go through `served` clients, which see what gunicorn with DEBUG off sends."""

from __future__ import annotations

import datetime as dt

import pytest

from allocation_portal import dates, months
from allocation_portal.models import AuditEvent
from monitoring.models import ReclamationCase, RedistributionProposal
from tests import factories as f

pytestmark = pytest.mark.django_db


def a_proposal(world) -> RedistributionProposal:
    loan = f.make_loan(world.org_a)
    return RedistributionProposal.objects.create(rank=1, kind="loan_request", loan_request=loan.request)


def assert_error_shape(response, status=400):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


# --- One parser for months and dates, with the portal's bounds -----------------------------------


@pytest.mark.parametrize("text", ["0000-01", "9999-12", "0001-01", "1999-12", "2100-01"])
def test_it_refuses_months_outside_the_portals_bounds(text):
    with pytest.raises(dates.DateInvalid) as caught:
        dates.parse_month(text)
    assert "2000-01" in caught.value.message and "2099-12" in caught.value.message
    assert months.parse(text) is None


@pytest.mark.parametrize("text", ["9999-12-20", "9999-12-31", "0001-01-01", "0000-01-01", "2100-01-01"])
def test_it_refuses_dates_outside_the_portals_bounds(text):
    with pytest.raises(dates.DateInvalid):
        dates.parse_date(text)


def test_it_reads_dates_and_months_inside_the_bounds():
    assert dates.parse_month("2026-09") == dt.date(2026, 9, 1)
    assert dates.parse_month("2099-12") == dt.date(2099, 12, 1)
    assert dates.parse_date("2000-01-01") == dt.date(2000, 1, 1)
    assert dates.parse_date("2099-12-31") == dt.date(2099, 12, 31)
    for bad in ["2026-13", "2026-1", "26-01", "", None, "２０２６-０１"]:
        with pytest.raises(dates.DateInvalid):
            dates.parse_month(bad)
    for bad in ["2026-02-30", "2026-1-1", "２０２６-０１-０１", "", None]:
        with pytest.raises(dates.DateInvalid):
            dates.parse_date(bad)


@pytest.mark.parametrize("url", [
    "/api/v1/projects/?start_month={m}", "/api/v1/reports/?month={m}", "/api/v1/cases/?month={m}",
    "/api/v1/board/?month={m}",
])
@pytest.mark.parametrize("month", ["0000-01", "9999-12"])
def test_an_out_of_range_month_in_a_query_is_a_400(world, served, url, month):
    error = assert_error_shape(served.api(world.admin).get(url.format(m=month)))
    assert "2000-01" in str(error)


@pytest.mark.parametrize("url", ["/projects/?start_month={m}", "/reports/?month={m}", "/monitoring/cases/?month={m}",
                                 "/monitoring/board/?month={m}", "/projects/PA-001/reports/new/?month={m}"])
def test_an_out_of_range_month_on_a_page_is_not_a_server_error(world, served, url, clock):
    for month in ["0000-01", "9999-12"]:
        response = served.page(world.admin).get(url.format(m=month))
        assert response.status_code in (200, 400), (url, month, response.status_code)


def test_an_out_of_range_month_in_a_body_is_a_field_error(world, served, clock):
    admin = served.api(world.admin)
    for month in ["0000-01", "9999-12"]:
        error = assert_error_shape(admin.post("/api/v1/checks/", {"month": month}, format="json"))
        assert "month" in error["fields"]
        error = assert_error_shape(admin.post("/api/v1/cases/off-purpose/",
                                              {"project": "PA-001", "month": month, "note": "x"}, format="json"))
        assert "month" in error["fields"]
    assert not ReclamationCase.objects.exists()


@pytest.mark.parametrize("starts_on, ends_on", [("9999-12-20", "9999-12-31"), ("2026-10-01", "9999-12-31"),
                                                ("0001-01-01", "2026-12-31")])
def test_an_out_of_range_award_is_a_field_error_not_a_server_error(world, served, clock, starts_on, ends_on):
    body = {"cluster": world.cluster.code, "server_count": 1, "starts_on": starts_on, "ends_on": ends_on, "reason": "r"}
    error = assert_error_shape(served.api(world.admin).post(f"/api/v1/projects/{world.project_a2.code}/award/", body,
                                                           format="json"))
    assert set(error["fields"]) <= {"starts_on", "ends_on"} and error["fields"]
    page = served.page(world.admin).post(f"/projects/{world.project_a2.code}/award/",
                                         {**body, "cluster": world.cluster.pk})
    assert page.status_code == 400 and b"2099-12-31" in page.content
    assert not AuditEvent.objects.filter(action__startswith="allocation.").exclude(actor=None).exists()


def test_an_out_of_range_loan_request_is_a_field_error(world, served, clock):
    from tests.lending.conftest import request_values

    body = {**request_values(), "starts_on": "9999-12-20", "ends_on": "9999-12-31"}
    error = assert_error_shape(served.api(world.applicant).post("/api/v1/loan-requests/", body, format="json"))
    assert set(error["fields"]) == {"starts_on", "ends_on"}
    page = served.page(world.applicant).post("/lending/requests/new/", {**body, "accepts_recall_terms": "on"})
    assert page.status_code == 400


@pytest.mark.parametrize("url, body", [
    ("/api/v1/projects/PA-002/start/", {"started_on": "0001-01-01"}),
    ("/api/v1/projects/PA-002/expected-start/", {"expected_start": "9999-12-31", "reason": "r"}),
])
def test_out_of_range_start_dates_are_field_errors(world, served, clock, url, body):
    error = assert_error_shape(served.api(world.official).post(url, body, format="json"))
    assert set(error["fields"]) == set(body) - {"reason"}
    world.project_a2.refresh_from_db()
    assert world.project_a2.actual_start is None


def test_capacity_on_a_date_outside_the_bounds_is_a_400(world, served):
    for day in ["9999-12-31", "0001-01-01"]:
        assert_error_shape(served.api(world.admin).get("/api/v1/capacity/", {"date": day}))
        assert served.page(world.admin).get("/programme/", {"date": day}).status_code == 200


@pytest.mark.parametrize("since, message", [
    ("2026-01-01T00:00:00+22:33", "-14:00 and +14:00"),
    ("2026-01-01T00:00:00-15:00", "-14:00 and +14:00"),
    ("9999-12-31T23:00:00-10:00", "2099-12-31"),
    ("2026-13-01T00:00:00Z", "YYYY-MM-DD"),
])
def test_a_timestamp_filter_with_an_impossible_offset_or_year_is_a_400(world, served, since, message):
    error = assert_error_shape(served.api(world.admin).get("/api/v1/audit-events/", {"since": since}))
    assert message in error["fields"]["since"][0]


def test_a_timestamp_filter_reads_offsets_and_utc(world, served):
    for since in ["2026-01-01T00:00:00+09:00", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+14:00", "2026-01-01T00:00"]:
        assert served.api(world.admin).get("/api/v1/audit-events/", {"since": since}).status_code == 200


def test_a_release_time_with_an_impossible_offset_is_a_400(world, served):
    error = assert_error_shape(served.api(world.admin).post(
        f"/api/v1/allocations/{world.allocation_a.public_id}/release/",
        {"at": "2026-10-01T00:00:00+22:33", "reason": "r"}, format="json"))
    assert "at" in error["fields"]
    world.allocation_a.refresh_from_db()
    assert world.allocation_a.released_at is None


# --- NUL characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/projects/PA%00/", "/ministries/a%00/", "/reports/?month=2026-08%00",
                                 "/audit/?action=a%00b", "/projects/?q=a%00b"])
def test_a_nul_in_a_page_address_is_a_400(world, served, url):
    response = served.page(world.admin).get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.parametrize("url", ["/api/v1/projects/PA%00/", "/api/v1/audit-events/?action=a%00b",
                                 "/api/v1/projects/?q=%00"])
def test_a_nul_in_an_api_address_is_a_400_in_the_error_shape(world, served, url):
    assert_error_shape(served.api(world.admin).get(url))


def test_a_nul_in_a_body_value_is_a_400_and_writes_nothing(world, served, clock):
    proposal = a_proposal(world)
    before = AuditEvent.objects.count()
    # The HTML proposal rejection takes the note straight from the form.
    response = served.page(world.admin).post(f"/monitoring/redistribution/{proposal.public_id}/reject/",
                                             {"note": "a\x00b"})
    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.state == "proposed" and AuditEvent.objects.count() == before


# --- Bodies that are not objects -----------------------------------------------------------------


@pytest.mark.parametrize("body", [[1, 2], [{"month": "2026-08"}], "2026-08", 5, None, True])
@pytest.mark.parametrize("url", ["/api/v1/checks/", "/api/v1/reports/", "/api/v1/notifications/read/",
                                 "/api/v1/policy/", "/api/v1/cases/off-purpose/"])
def test_a_json_body_that_is_not_an_object_is_a_400(world, served, url, body):
    response = served.api(world.admin).post(url, body, format="json")
    if body is None:  # an empty JSON body is no body
        assert response.status_code != 500
        return
    error = assert_error_shape(response)
    assert error["code"] == "parse_error" and "JSON object" in error["message"]


def test_the_plan_takes_a_json_list_and_only_a_list_or_object(world, served, clock):
    official = served.api(world.official)
    ok = official.put(f"/api/v1/projects/{world.project_a2.code}/plan/",
                      [{"month": "2026-12-01", "planned_gpu_hours": "100"}], format="json")
    assert ok.status_code == 200, ok.json()
    error = assert_error_shape(official.put(f"/api/v1/projects/{world.project_a2.code}/plan/", "x", format="json"))
    assert error["code"] == "parse_error"


def test_a_proposal_rejection_with_a_list_body_is_a_400(world, served):
    proposal = a_proposal(world)
    assert_error_shape(served.api(world.admin).post(f"/api/v1/redistribution/proposals/{proposal.public_id}/reject/",
                                                    ["note"], format="json"))


# --- The Django admin for anonymous visitors ----------------------------------------------------


def test_an_anonymous_visit_to_the_admin_shows_its_login_page(served):
    client = served.page(None)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and response.redirect_chain[-1][0].startswith("/admin/login/")
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/admin/allocation_portal/user/").status_code == 302


def test_only_msit_admins_get_past_the_admins_login(world, served):
    assert served.page(world.admin).get("/admin/").status_code == 200
    for user in (world.official, world.auditor, world.applicant):
        assert served.page(user).get("/admin/").status_code == 302


# --- Keeping it so ---------------------------------------------------------------------------------


def _classes(base):
    import importlib
    import inspect

    names = ["forms", "serializers", "filters", "api", "api_views", "lending_api", "case_api", "admin"]
    for app in ("allocation_portal", "projects", "gpus", "monitoring"):
        for name in names:
            try:
                module = importlib.import_module(f"{app}.{name}")
            except ModuleNotFoundError:
                continue
            for _n, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, base) and cls.__module__ == module.__name__:
                    yield cls


def test_every_date_field_of_every_form_serializer_and_filter_reads_through_the_portals_parser():
    import django_filters
    from django import forms
    from rest_framework import serializers

    from allocation_portal import fields

    bare = []
    for form in _classes(forms.BaseForm):
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateField | forms.DateTimeField) and not isinstance(field, fields.DateField):
                bare.append(f"{form.__name__}.{name}")
    for serializer in _classes(serializers.Serializer):
        for name, field in serializer().fields.items():
            if field.read_only:
                continue
            if isinstance(field, serializers.DateField) and not isinstance(field, fields.ApiDateField):
                bare.append(f"{serializer.__name__}.{name}")
            if isinstance(field, serializers.DateTimeField) and not isinstance(field, fields.ApiDateTimeField):
                bare.append(f"{serializer.__name__}.{name}")
    for filterset in _classes(django_filters.FilterSet):
        for name, filter_ in filterset.base_filters.items():
            if issubclass(filter_.field_class, forms.DateField | forms.DateTimeField):
                bare.append(f"{filterset.__name__}.{name}")
    assert not bare, f"use allocation_portal.fields for: {bare}"
