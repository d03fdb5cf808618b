"""Stored text a person reads later — notices, ledger reasons, audit reasons, actions and object
types — is kept as a message code with parameters and rendered in the reader's language (issue 11 §4)."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from allocation_portal.labels import action_label, object_type_label
from allocation_portal.messages import both, msg, plain, render
from allocation_portal.models import AuditEvent, Notification
from lending.services import loan_recall
from tests import factories as f

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
HANGUL = re.compile(r"[가-힣]")


def test_a_message_renders_in_each_language_with_its_parameters():
    notice = msg(gettext_noop("Recall notice: your GPU loan ends on %(end)s"), end=dt.date(2026, 12, 20))
    assert render(notice, "en") == "Recall notice: your GPU loan ends on 2026-12-20"
    assert render(notice, "ko") == "회수 통지: GPU 대여가 2026-12-20에 종료됩니다"
    assert plain(notice) == render(notice, "ko")
    # a nested message and a name in both languages are rendered in the reader's language too
    nested = msg(gettext_noop("Recalled: %(reason)s"), reason=both("기상청", "KMA"))
    assert render(nested, "en") == "Recalled: KMA" and render(nested, "ko") == "회수: 기상청"
    # text a person typed is shown as typed; a parameter missing from old rows never breaks the page
    assert render(msg(gettext_noop("Recalled: %(reason)s"), reason="내부 사정"), "en") == "Recalled: 내부 사정"
    assert render({"m": "Recalled: %(reason)s", "p": {}}, "en") == "Recalled: %(reason)s"
    # rows written before messages existed are plain strings, shown as they are
    assert render("legacy text", "ko") == "legacy text" and render("", "en") == ""


def test_a_recall_notice_audit_reason_and_ledger_reason_read_in_the_readers_language(world, client_for):
    server = world.cluster.servers.order_by("hostname")[5]
    loan = f.make_loan(world.org_a, gpus=f.server_gpus(server), start=dt.date(2027, 1, 4), end=dt.date(2027, 2, 1))
    loan_recall(actor=world.admin, loan=loan, reason=msg(gettext_noop("The owning project starts")))
    notice = Notification.objects.get(user=world.applicant, kind="loan_recalled")
    assert notice.title_msg["m"].startswith("Recall notice") and HANGUL.search(notice.title)  # Korean kept in the column

    english = client_for(world.applicant, "en").get("/notifications/").content.decode()
    korean = client_for(world.applicant, "ko").get("/notifications/").content.decode()
    assert "Recall notice: your GPU loan ends on" in english and "회수 통지" not in english
    assert "회수 통지: GPU 대여가" in korean and "Recall notice" not in korean

    event = AuditEvent.objects.get(action="loan.recall")
    assert event.reason_msg is not None
    for lang, action, reason in (("en", "Loan recalled", "The owning project starts"), ("ko", "대여 회수", None)):
        page = client_for(world.auditor, lang).get("/audit/").content.decode()
        assert action in page
        if reason:
            assert reason in page
    api = client_for(world.auditor, "en").get("/api/v1/audit-events/?action=loan.recall").json()
    row = api["results"][0]
    assert row["action_label"] == "Loan recalled" and row["object_type_label"] == "short-term loan"

    allocation = loan.allocations.get()
    assert allocation.release_reason_msg or allocation.reason_msg
    with translation.override("en"):
        assert "Recalled:" in (allocation.release_reason_text or allocation.reason_text)
    with translation.override("ko"):
        assert "회수:" in (allocation.release_reason_text or allocation.reason_text)


def test_every_audited_action_has_a_label_in_both_languages():
    sources = [p for app in ("allocation_portal", "gpus", "projects", "lending", "monitoring")
               for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    codes = {code for p in sources for code in re.findall(r'action="([a-z_]+\.[a-z_.]+)"', p.read_text())}
    assert len(codes) > 30
    for code in sorted(codes):
        with translation.override("en"):
            english = action_label(code)
        with translation.override("ko"):
            korean = action_label(code)
        assert english != code, f"no label for audit action {code}"
        assert HANGUL.search(korean), f"no Korean label for audit action {code}"


def test_object_types_read_as_their_models_names_even_after_a_model_moved():
    with translation.override("ko"):
        assert object_type_label("gpus.loan") == object_type_label("lending.loan") == "단기 지원(대여)"
    with translation.override("en"):
        assert object_type_label("lending.loan") == "short-term loan"
        assert object_type_label("nosuch.model") == "nosuch.model"


def test_audit_targets_and_roles_read_in_the_readers_language(world, client_for):
    award = AuditEvent.objects.filter(object_type="gpus.allocation", object_repr__startswith="국가 과제 PA-001").first()
    assert award is not None and award.object_repr_i18n["en"].startswith("National project PA-001")
    english = client_for(world.auditor, "en").get("/api/v1/audit-events/", {"object_id": award.object_id}).json()
    korean = client_for(world.auditor, "ko").get("/api/v1/audit-events/", {"object_id": award.object_id}).json()
    assert english["results"][0]["object_repr"].startswith("National project PA-001")
    assert korean["results"][0]["object_repr"].startswith("국가 과제 PA-001")
    assert english["results"][0]["actor_role_label"] in ("MSIT admin", "system")


# --- Texts the portal writes itself are stored as its source strings, never in the writer's language ----


def test_a_committees_stored_reason_reads_in_the_readers_language_in_the_api(api_for):
    """The 2026 selection's reasons are the catalog's strings: the API renders them like the page."""
    from django.core.management import call_command

    from calls.models import Proposal

    call_command("load_selection_2026", verbosity=0)
    proposal = Proposal.objects.filter(state="selected", project__code="NAI-2026-04").get()
    auditor = f.make_user("auditor", username="reader")
    english = api_for(auditor, "en").get(f"/api/v1/call-proposals/{proposal.public_id}/").json()
    korean = api_for(auditor, "ko").get(f"/api/v1/call-proposals/{proposal.public_id}/").json()
    assert english["decision_reason"].startswith("Selected by the 6th Science") and not HANGUL.search(english["decision_reason"])
    assert HANGUL.search(korean["decision_reason"]) and "Selected by" not in korean["decision_reason"]


def test_an_early_return_and_a_bulk_upload_leave_portal_text_in_the_readers_language(world, api_for, client_for, clock):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gpus.models import Allocation
    from lending.services import loan_return
    from monitoring.models import UsageReport

    server = world.cluster.servers.order_by("hostname")[5]
    loan = f.make_loan(world.org_a, gpus=f.server_gpus(server), start=dt.date(2026, 7, 20), end=dt.date(2026, 9, 30))
    with translation.override("ko"):  # the returning applicant reads Korean; the reason is stored as a source string
        loan_return(actor=world.applicant, loan=loan)
    released = Allocation.objects.get(loan=loan)
    assert render(released.release_reason_msg, "en") == "Returned early."
    assert render(released.release_reason_msg, "ko") != "Returned early." and HANGUL.search(render(released.release_reason_msg, "ko"))

    header = "과제 코드,대상 월,사용 GPU-시간,최대 동시 사용 GPU,목적 내 사용,인공지능 기본법,개인정보,학습데이터 저작권,비고\n"
    upload = SimpleUploadedFile("r.csv", ("\ufeff" + header + "PA-001,2026-07,9000,16,Y,Y,NA,Y,\n").encode())
    assert api_for(world.official, "ko").post("/api/v1/reports/upload/", {"file": upload}, format="multipart").status_code == 201
    report = UsageReport.objects.get(project__code="PA-001")
    notes = {lang: api_for(world.official, lang).get(f"/api/v1/reports/{report.public_id}/").json()["versions"][0]["note"]
             for lang in ("en", "ko")}
    assert notes["en"] == "Bulk upload." and HANGUL.search(notes["ko"])
    page = {lang: client_for(world.official, lang).get(f"/reports/{report.public_id}/").content.decode()
            for lang in ("en", "ko")}
    assert "Bulk upload." in page["en"] and notes["ko"] in page["ko"] and "Bulk upload." not in page["ko"]


def test_an_off_purpose_case_from_a_report_keeps_the_typed_notes_and_names_the_report_in_each_language(world, client_for, clock):
    from monitoring.models import ReclamationCase
    from monitoring.services import report_save
    from tests.monitoring.conftest import values

    with translation.override("ko"):
        report_save(actor=world.official, project=world.project_a, month=dt.date(2026, 7, 1), submit=True,
                    values=values(within_purpose=False, notes="외부 과제 학습에 사용"))
    case = ReclamationCase.objects.get(project=world.project_a, kind="off_purpose")
    assert case.evidence_note == "외부 과제 학습에 사용" and case.source_report is not None
    english = client_for(world.admin, "en").get(f"/monitoring/cases/{case.public_id}/").content.decode()
    assert "Declared in the 2026-07 report" in english and "외부 과제 학습에 사용" in english
    assert "보고서에서 신고" not in english


def test_no_service_stores_portal_text_translated_into_the_writers_language():
    """A reason or note the portal writes itself goes in as a message (msg(gettext_noop(...))) or a source
    string, never as gettext's output: that would keep the words of whoever was signed in."""
    translated = re.compile(r"\b(reason|note|release_reason|review_note)=(str\()?_\(")
    found = [f"{p.relative_to(ROOT)}:{n}" for app in ("allocation_portal", "gpus", "projects", "lending", "monitoring",
                                                       "calls", "outcomes", "metering")
             for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts
             for n, line in enumerate(p.read_text().splitlines(), 1) if translated.search(line)]
    assert found == []


def test_account_audit_reasons_read_in_the_readers_language(world, client_for):
    """A password reset and a second-factor reset by a Korean-reading admin read in English for an
    English-reading auditor."""
    from allocation_portal.accounts import password_set
    from allocation_portal.second_factor import second_factor_reset

    with translation.override("ko"):
        password_set(actor=world.admin, user=world.official, password="another-Passw0rd!")
        second_factor_reset(actor=world.admin, user=world.admin)
    for action in ("account.password_reset", "account.second_factor_reset"):
        event = AuditEvent.objects.filter(action=action).latest("pk")
        assert render(event.reason_msg, "en") == "Reset by an MSIT admin." if action == "account.password_reset" \
            else render(event.reason_msg, "en") == "Reset by the user."
        assert HANGUL.search(event.reason)  # the plain column keeps Korean, the portal's first language
    page = client_for(world.auditor, "en").get("/audit/").content.decode()
    assert "Reset by an MSIT admin." in page and "담당자가 재설정했습니다" not in page
