"""Audit events are append-only: not through the ORM, not in SQL, not in the admin, not in the API."""

import pytest
from django.db import DatabaseError, connection, transaction

from allocation_portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(world):
    return AuditEvent.objects.filter(action="allocation.award").first()


def test_every_award_in_the_world_was_audited(world, event):
    assert AuditEvent.objects.filter(action="allocation.award").count() == 3
    assert event.object_type == "gpus.allocation"


def test_the_orm_refuses_to_change_or_delete(event):
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE allocation_portal_auditevent SET reason = 'x'", "DELETE FROM allocation_portal_auditevent"]
)
def test_the_database_refuses_to_change_or_delete(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk, reason=event.reason).exists()


@pytest.mark.django_db(transaction=True)
def test_audit_events_need_the_changes_transaction():
    from allocation_portal import audit

    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", object_type="t", object_id="1")


def test_the_admin_shows_but_cannot_change(world, event, client_for):
    client = client_for(world.admin)
    assert client.get("/admin/allocation_portal/auditevent/").status_code == 200
    assert client.get(f"/admin/allocation_portal/auditevent/{event.pk}/change/").status_code == 200
    response = client.post(f"/admin/allocation_portal/auditevent/{event.pk}/change/", {"reason": "x"})
    assert response.status_code == 403
    assert client.post(f"/admin/allocation_portal/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/allocation_portal/auditevent/add/").status_code == 403
    event.refresh_from_db()
    assert event.reason != "x"


def test_the_api_is_read_only(world, event, api_for):
    api = api_for(world.admin)
    url = f"/api/v1/audit-events/{event.public_id}/"
    assert api.get(url).status_code == 200
    for method in ("put", "patch", "delete"):
        assert getattr(api, method)(url, {"reason": "x"}, format="json").status_code == 405
    assert api.post("/api/v1/audit-events/", {"reason": "x"}, format="json").status_code == 405


def test_admin_edits_are_audited(world, client_for):
    client = client_for(world.admin)
    project = world.project_a
    data = {
        "code": project.code, "ministry": project.ministry_id, "title_ko": "새 제목", "title_en": project.title_en,
        "domain": project.domain, "purpose": "", "gpus_awarded": project.gpus_awarded,
        "planned_start": project.planned_start.isoformat(), "end_date": project.end_date.isoformat(),
        "expected_start": "", "rank": "", "pool": project.pool_id,
    }
    response = client.post(f"/admin/projects/project/{project.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="admin.change", object_id=project.code)
    assert event.before["title_ko"] != "새 제목" and event.after["title_ko"] == "새 제목"
    assert event.actor == world.admin
