"""Monthly usage reports: every validation rule, the states, kept versions, and the same service
behind the form, the API and the upload."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent
from monitoring.models import ReportState, UsageReport
from monitoring.services import report_accept, report_return, report_save
from tests import factories as f
from tests.conftest import KST
from tests.monitoring.conftest import AUG, AUG_HOURS, values

pytestmark = pytest.mark.django_db


def save(world, actor=None, month=AUG, project=None, **kw):
    return report_save(
        actor=actor or world.official, project=project or world.project_a, month=month, values=values(**kw.pop("v", {})), **kw
    )


def field_errors(excinfo):
    return excinfo.value.fields


def test_an_official_saves_a_draft_then_submits(world, clock):
    report = save(world)
    assert report.state == ReportState.DRAFT and report.version == 1 and report.submitted_at is None
    report = save(world, submit=True, v={"gpu_hours_used": Decimal("9500")})
    assert report.state == ReportState.SUBMITTED and report.version == 2
    assert report.submitted_by == world.official
    assert [v.event for v in report.versions.order_by("version")] == ["created", "submitted"]
    assert AuditEvent.objects.filter(action="report.submitted", object_id=str(report.public_id)).exists()


@pytest.mark.parametrize(
    "month, message",
    [
        (dt.date(2026, 10, 1), "in the future"),
        (dt.date(2026, 3, 1), "before the project's start"),
    ],
)
def test_the_month_must_be_reportable(world, clock, month, message):
    with pytest.raises(ValidationFailed) as excinfo:
        save(world, month=month)
    assert message in " ".join(field_errors(excinfo)["month"])


def test_the_month_under_way_may_be_reported_up_to_now(world, clock):
    # 2026-09-10 10:00 KST: 9 days and 10 hours held so far, 16 GPUs.
    held = Decimal((9 * 24 + 10) * 16)
    report = save(world, month=dt.date(2026, 9, 1), v={"gpu_hours_used": held})
    assert report.gpu_hours_used == held
    with pytest.raises(ValidationFailed) as excinfo:
        save(world, month=dt.date(2026, 9, 1), v={"gpu_hours_used": held + 1})
    assert "gpu_hours_used" in field_errors(excinfo)


def test_a_project_that_has_not_started_has_nothing_to_report(world, clock):
    with pytest.raises(ValidationFailed) as excinfo:
        save(world, project=world.project_a2)
    assert "has not started" in field_errors(excinfo)["month"][0]


@pytest.mark.parametrize(
    "override, field, message",
    [
        ({"gpu_hours_used": Decimal("-1")}, "gpu_hours_used", "negative"),
        ({"gpu_hours_used": AUG_HOURS + 1}, "gpu_hours_used", "11,904.0 GPU-hours the project held in 2026-08"),
        ({"gpu_hours_used": None}, "gpu_hours_used", "Enter the GPU-hours"),
        ({"peak_gpus_busy": 17}, "peak_gpus_busy", "16 GPUs the project held"),
        ({"peak_gpus_busy": None}, "peak_gpus_busy", "Enter the peak"),
        ({"within_purpose": None}, "within_purpose", "purpose declaration"),
        ({"within_purpose": False, "notes": ""}, "notes", "outside the approved purpose"),
        ({"ai_basic_act": ""}, "ai_basic_act", "checklist"),
        ({"personal_information": "maybe"}, "personal_information", "checklist"),
        ({"training_data_copyright": None}, "training_data_copyright", "checklist"),
    ],
)
def test_every_value_rule_has_a_clear_message(world, clock, override, field, message):
    with pytest.raises(ValidationFailed) as excinfo:
        save(world, v=override)
    assert message in " ".join(field_errors(excinfo)[field])
    assert not UsageReport.objects.exists()


def test_exactly_the_held_hours_are_allowed(world, clock):
    assert save(world, v={"gpu_hours_used": AUG_HOURS, "peak_gpus_busy": 16}).gpu_hours_used == AUG_HOURS


def test_hours_after_a_release_are_not_held(world, clock):
    from gpus.selectors import day_start
    from gpus.services import allocation_release

    clock.move_to(day_start(dt.date(2026, 8, 16)))
    allocation_release(actor=world.admin, allocation=world.allocation_a, reason="r", at=day_start(dt.date(2026, 8, 16)))
    clock.move_to(dt.datetime(2026, 9, 10, 10, tzinfo=KST))
    with pytest.raises(ValidationFailed):
        save(world, v={"gpu_hours_used": Decimal(15 * 24 * 16 + 1)})
    assert save(world, v={"gpu_hours_used": Decimal(15 * 24 * 16)})


def test_one_report_per_project_month_is_a_database_rule(world, clock):
    report = save(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageReport.objects.create(
            project=report.project, month=report.month, gpu_hours_used=1, peak_gpus_busy=1,
            ai_basic_act="yes", personal_information="yes", training_data_copyright="yes",
        )


def test_review_accept_and_return(world, clock):
    report = save(world, submit=True)
    with pytest.raises(StateConflict):
        save(world, v={"gpu_hours_used": Decimal(1)})  # waiting for review
    with pytest.raises(NotPermitted):
        report_accept(actor=world.official, report=report)
    with pytest.raises(ValidationFailed):
        report_return(actor=world.admin, report=report, reason=" ")
    returned = report_return(actor=world.admin, report=report, reason="Attach the scheduler export.")
    assert returned.state == ReportState.RETURNED
    assert world.official.notifications.filter(kind="report_returned").count() == 1
    resubmitted = save(world, submit=True, v={"gpu_hours_used": Decimal("8000")})
    assert resubmitted.state == ReportState.SUBMITTED and resubmitted.return_reason == ""
    accepted = report_accept(actor=world.admin, report=resubmitted)
    assert accepted.state == ReportState.ACCEPTED
    with pytest.raises(StateConflict):
        report_accept(actor=world.admin, report=accepted)
    events = [v.event for v in accepted.versions.order_by("id")]
    assert events == ["submitted", "returned", "submitted", "accepted"]


def test_a_correction_of_an_accepted_report_keeps_history(world, clock):
    report = report_accept(actor=world.admin, report=save(world, submit=True))
    with pytest.raises(StateConflict):
        save(world, v={"gpu_hours_used": Decimal(1)})  # a correction must be submitted
    corrected = save(world, submit=True, v={"gpu_hours_used": Decimal("7000")}, note="scheduler re-count")
    assert corrected.state == ReportState.SUBMITTED and corrected.version == report.version + 1
    old, new = corrected.versions.order_by("id")[1], corrected.versions.order_by("id")[2]
    assert old.data["gpu_hours_used"] == "9000.0" and new.data["gpu_hours_used"] == "7000.0"
    assert new.event == "corrected" and new.note == "scheduler re-count"


@pytest.mark.parametrize("who", ["outsider", "applicant", "auditor"])
def test_only_the_ministry_and_msit_report(world, clock, who):
    with pytest.raises(NotPermitted):
        save(world, actor=getattr(world, who))


def test_only_the_system_backdates(world, clock):
    with pytest.raises(NotPermitted):
        save(world, at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))


# --- the web form -------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "month": "2026-08", "gpu_hours_used": "9000", "peak_gpus_busy": "16", "within_purpose": "yes",
        "ai_basic_act": "yes", "personal_information": "na", "training_data_copyright": "yes", "notes": "",
        "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_submits_and_shows_errors_in_the_page(world, client_for, clock):
    client = client_for(world.official)
    unanswered = client.post(f"/projects/{world.project_a.code}/reports/new/", form_data(ai_basic_act=None))
    assert unanswered.status_code == 400 and "Answer this checklist item" in unanswered.content.decode()
    bad = client.post(f"/projects/{world.project_a.code}/reports/new/", form_data(peak_gpus_busy="40"))
    assert bad.status_code == 400 and "16 GPUs the project held" in bad.content.decode()
    assert not UsageReport.objects.exists()
    ok = client.post(
        f"/projects/{world.project_a.code}/reports/new/",
        {**form_data(), "evidence": SimpleUploadedFile("slurm-aug.csv", b"job,gpu_hours\n1,9000\n")},
    )
    assert ok.status_code == 302
    report = UsageReport.objects.get()
    assert report.state == "submitted" and report.evidence.name.endswith("slurm-aug.csv")
    again = client.post(f"/projects/{world.project_a.code}/reports/new/", form_data())
    assert again.status_code == 400 and "exists already" in again.content.decode()


def test_the_form_refuses_bad_evidence(world, client_for, clock):
    response = client_for(world.official).post(
        f"/projects/{world.project_a.code}/reports/new/",
        {**form_data(), "evidence": SimpleUploadedFile("run.exe", b"MZ")},
    )
    assert response.status_code == 400 and "Evidence must be one of" in response.content.decode()


def test_admin_reviews_in_the_page(world, client_for, clock):
    report = save(world, submit=True)
    admin = client_for(world.admin)
    assert admin.post(f"/reports/{report.public_id}/return/", {"reason": ""}).status_code == 400
    assert admin.post(f"/reports/{report.public_id}/return/", {"reason": "Check hours"}).status_code == 302
    report.refresh_from_db()
    assert report.state == "returned"
    page = client_for(world.official).get(f"/reports/{report.public_id}/").content.decode()
    assert "Check hours" in page


# --- the API --------------------------------------------------------------------------------


def api_body(**overrides):
    body = {
        "project": "PA-001", "month": "2026-08", "gpu_hours_used": "9000", "peak_gpus_busy": 16,
        "within_purpose": True, "ai_basic_act": "yes", "personal_information": "na",
        "training_data_copyright": "yes", "notes": "", "submit": False,
    }
    body.update(overrides)
    return body


def test_the_api_creates_edits_submits_and_reviews(world, api_for, clock):
    official = api_for(world.official)
    created = official.post("/api/v1/reports/", api_body(), format="json")
    assert created.status_code == 201, created.json()
    report_id = created.json()["id"]
    assert created.json()["state"] == "draft"
    patched = official.patch(f"/api/v1/reports/{report_id}/", api_body(gpu_hours_used="9100"), format="json")
    assert patched.status_code == 200 and patched.json()["gpu_hours_used"] == "9100.0"
    submitted = official.post(f"/api/v1/reports/{report_id}/submit/")
    assert submitted.json()["state"] == "submitted" and len(submitted.json()["versions"]) == 3
    assert official.post(f"/api/v1/reports/{report_id}/accept/").status_code == 403
    admin = api_for(world.admin)
    returned = admin.post(f"/api/v1/reports/{report_id}/return/", {"reason": "x"}, format="json")
    assert returned.json()["state"] == "returned"
    assert official.post(f"/api/v1/reports/{report_id}/submit/").json()["state"] == "submitted"
    assert admin.post(f"/api/v1/reports/{report_id}/accept/").json()["state"] == "accepted"


def test_the_api_answers_errors_in_one_shape(world, api_for, clock):
    official = api_for(world.official)
    response = official.post("/api/v1/reports/", api_body(peak_gpus_busy=99, month="2026-10"), format="json")
    assert response.status_code == 400
    assert {"month"} <= set(response.json()["error"]["fields"])
    bad_type = official.post("/api/v1/reports/", api_body(gpu_hours_used="lots", month="26-8"), format="json")
    assert {"gpu_hours_used", "month"} <= set(bad_type.json()["error"]["fields"])
    other = official.post("/api/v1/reports/", api_body(project="PB-001"), format="json")
    assert other.status_code == 400 and "project" in other.json()["error"]["fields"]
    official.post("/api/v1/reports/", api_body(), format="json")
    dup = official.post("/api/v1/reports/", api_body(), format="json")
    assert dup.status_code == 409


def test_the_api_lists_reports_in_scope_with_constant_queries(world, api_for, clock, django_assert_num_queries):
    save(world, submit=True)
    for _ in range(5):
        p = f.make_project(world.ministry_a, started=True, gpus=8)
        f.award(p, [f.make_cluster(servers=1).servers.get()])
        report_save(actor=world.official, project=p, month=AUG, values=values(peak_gpus_busy=8, gpu_hours_used=Decimal(100)))
    api = api_for(world.official)
    with django_assert_num_queries(3):
        body = api.get("/api/v1/reports/?month=2026-08").json()
    assert body["count"] == 6
    assert api_for(world.outsider).get("/api/v1/reports/").json()["count"] == 0
    assert api_for(world.official).get("/api/v1/reports/?month=2026-8").status_code == 400


def test_an_over_long_note_is_refused_the_same_way_on_the_page_and_in_the_service(world, client_for, clock):
    """One validation per action: the page used to cut the note silently; now the service refuses it,
    whichever way it came, and nothing is saved."""
    report = save(world, submit=True)
    page = client_for(world.admin).post(f"/reports/{report.public_id}/accept/", {"note": "x" * 1001}, follow=True)
    assert "At most 1000 characters" in page.content.decode()
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    with pytest.raises(ValidationFailed) as refused:
        report_accept(actor=world.admin, report=report, note="x" * 1001)
    assert "note" in refused.value.fields
    assert report_accept(actor=world.admin, report=report, note="x" * 1000).state == ReportState.ACCEPTED
