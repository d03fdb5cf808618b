"""Every page and endpoint × every role, an anonymous user and outsiders: exactly what DOMAIN.md says.

Roles: anonymous, admin (MSIT), official (ministry A), outsider (official of ministry B),
applicant (org A), outsider_applicant (org B), auditor. Objects of ministry A are outside the
outsider's scope and answer 404; pages a role may not use at all answer 403; anonymous users are
sent to log in (pages) or get 401 (API).

Later issues add their routes to ROUTES; `test_every_route_is_in_the_matrix` fails when a URL
exists that the matrix does not cover.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from allocation_portal.models import AuditEvent
from monitoring.models import Notification, UsageReport
from tests.conftest import ROLES

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page
OK, CREATED, FOUND, BAD, UNAUTH, FORBIDDEN, NOT_FOUND = 200, 201, 302, 400, 401, 403, 404


def expect(default=None, **per_role):
    """Expected status per role; `default` fills the roles not named."""
    return {role: per_role.get(role, default) for role in ROLES}


def award_form(w):
    today = dt.date.today()
    return {"cluster": w.cluster.pk, "server_count": 1, "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(), "reason": "matrix"}


def api_award(w):
    today = dt.date.today()
    return {"cluster": w.cluster.code, "server_count": 1, "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(), "reason": "matrix"}


PROGRAMME_READERS = dict(admin=OK, official=OK, outsider=OK, applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=OK)
ADMIN_AUDITOR = dict(admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=FORBIDDEN,
                     outsider_applicant=FORBIDDEN, auditor=OK)
MINISTRY_A_OBJECT = dict(admin=OK, official=OK, outsider=NOT_FOUND, applicant=FORBIDDEN,
                         outsider_applicant=FORBIDDEN, auditor=OK)
ADMIN_ONLY_WRITE = dict(official=FORBIDDEN, outsider=FORBIDDEN, applicant=FORBIDDEN,
                        outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)

def simulation_form(w):
    from allocation_portal import policy as programme_policy

    current = programme_policy.current()
    return {"first_month": "2026-04", "months": "1", "seed": "1", "behaviour": "",
            **{f"b-{name}": getattr(current, name) for name in programme_policy.FIELDS}}


def simulation_run(w):
    from outcomes.models import SimulationRun

    return SimulationRun.objects.get(requested_by=w.admin)


def loan_request(w):
    from lending.models import LoanRequest

    return LoanRequest.objects.get(organisation=w.org_a, state="submitted")


def loan(w):
    from lending.models import Loan

    return Loan.objects.get(organisation=w.org_a)


def proposal_gpus(w):
    from lending.selectors import propose, request_window

    r = loan_request(w)
    found = propose(r.gpu_model, r.gpu_count, *request_window(r))
    from gpus.models import Gpu

    return {"gpus": [f"{g.server.hostname}:{g.index}" for g in Gpu.objects.filter(pk__in=found.gpu_ids).select_related("server")]}


def request_body(w):
    from tests.lending.conftest import request_values

    return {**request_values(), "starts_on": "2026-12-01", "ends_on": "2026-12-31"}


def call_proposal(w, mine=True):
    """Organisation A's open request as a proposal of the rolling call (assigned to the matrix's
    reviewer), or organisation B's (assigned to another reviewer)."""
    from calls.models import Proposal

    return Proposal.objects.get(loan_request__organisation=w.org_a if mine else w.org_b,
                                loan_request__state="submitted")


def national_proposal(w):
    """Ministry A's national proposal to the 2027 call."""
    from calls.models import Proposal

    return Proposal.objects.get(call__code="nat-2027", ministry=w.ministry_a)


def national_body(w):
    return {"call": "nat-2027", "title": "행렬 과제", "domain": "public", "summary": "matrix", "gpu_model": "B200",
            "gpu_count": 8, "months": 6, "starts_on": "2027-01-04"}


def assignment(w, mine=True):
    from calls.models import Assignment

    return Assignment.objects.get(proposal=call_proposal(w, mine))


def outsider_token(w) -> str:
    from rest_framework.authtoken.models import Token

    Token.objects.get_or_create(user=w.outsider)
    return str(w.outsider.public_id)


def case(w):
    from monitoring.models import ReclamationCase

    return ReclamationCase.objects.get(project=w.project_a)


def proposal(w):
    from monitoring.models import RedistributionProposal

    return RedistributionProposal.objects.get(state="proposed")


def report(w) -> UsageReport:
    return UsageReport.objects.get(project=w.project_a)


def report_values(month="2026-06"):
    return {"project": "PA-001", "month": month, "gpu_hours_used": "100", "peak_gpus_busy": 8,
            "within_purpose": True, "ai_basic_act": "yes", "personal_information": "na",
            "training_data_copyright": "yes", "notes": ""}


def upload_file(w):
    content = (b"project,month,gpu_hours_used,peak_gpus_busy,within_purpose,ai_basic_act,personal_information,"
               b"training_data_copyright,notes\nPA-001,2026-06,100,8,Y,Y,NA,Y,\n")
    return {"file": SimpleUploadedFile("r.csv", content)}


def sacct_file(w):
    """One job run on the world's first server in the last month that has ended."""
    from allocation_portal import months

    start = months.add_months(months.current(), -1)
    line = (f"9|9|clw|acct|u|COMPLETED|{start:%Y-%m}-02T00:00:00|{start:%Y-%m}-02T01:00:00|"
            f"{start:%Y-%m}-02T03:00:00|7200|gres/gpu=8|clw-001\n")
    return {"file": SimpleUploadedFile("sacct.txt", line.encode()), "provider": w.cluster.provider.code}


def colleague(w, state: str = "active") -> str:
    """Another official of ministry A: active, deactivated (with a password) or invited (not yet
    accepted). Returns their public id."""
    from allocation_portal import people
    from allocation_portal.models import User
    from tests import factories as f

    if state == "invited":
        found = User.objects.filter(email="invited.colleague@mina.go.kr").first()
        user = found or people.person_invite(actor=w.admin, email="invited.colleague@mina.go.kr", role="official",
                                             ministry=w.ministry_a).user
    else:
        user = User.objects.filter(username=f"colleague_{state}").first() or f.make_user(
            "official", username=f"colleague_{state}", ministry=w.ministry_a, is_active=state == "active")
    return str(user.public_id)


# Who has a People area: everyone but a provider's operator and an expert reviewer.
SEES_PEOPLE = dict(admin=OK, official=OK, outsider=OK, applicant=OK, outsider_applicant=OK, auditor=OK)
MINISTRY_A_PERSON = dict(admin=OK, official=OK, outsider=NOT_FOUND, applicant=NOT_FOUND, outsider_applicant=NOT_FOUND,
                         auditor=OK)
MANAGES_MINISTRY_A_PERSON = dict(admin=FOUND, official=FOUND, outsider=NOT_FOUND, applicant=NOT_FOUND,
                                 outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)
API_MANAGES_MINISTRY_A_PERSON = {**MANAGES_MINISTRY_A_PERSON, "admin": OK, "official": OK}

OWN_MINISTRY_WRITE = dict(admin=OK, official=OK, outsider=NOT_FOUND, applicant=FORBIDDEN,
                          outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)
REPORTERS = dict(admin=OK, official=OK, outsider=OK, applicant=FORBIDDEN, outsider_applicant=FORBIDDEN,
                 auditor=FORBIDDEN)
APPLICANTS = dict(admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=OK, outsider_applicant=OK,
                  auditor=FORBIDDEN)
ORG_A_OBJECT = dict(admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=OK, outsider_applicant=NOT_FOUND,
                    auditor=OK)
ORG_A_WRITE = dict(admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=OK, outsider_applicant=NOT_FOUND,
                   auditor=FORBIDDEN)
ADMIN_WRITE_ON_ORG_A = dict(admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=FORBIDDEN,
                            outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)
EVERYONE = dict(admin=OK, official=OK, outsider=OK, applicant=OK, outsider_applicant=OK, auditor=OK, provider=OK,
                reviewer=OK)

# What a provider's operator may reach beyond the routes whose expectations name every role.
PROVIDER_OPERATOR = {"api metering sacct": CREATED, "metering": OK}

# What an expert reviewer may reach beyond the routes whose expectations name every role.
REVIEWER_SEES = {"reviews": OK, "review": OK, "review other": NOT_FOUND, "review conflict": FOUND,
                 "api call proposals": OK, "api call proposal": OK, "api call proposal unassigned": NOT_FOUND,
                 "api call proposal national": NOT_FOUND,
                 "api reviews": OK, "api review": OK, "api review other": NOT_FOUND, "api review scores": OK,
                 "api review conflicts": CREATED}
NOBODY_ELSE = dict(admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=FORBIDDEN,
                   outsider_applicant=FORBIDDEN, auditor=FORBIDDEN, provider=FORBIDDEN)

# name: (url name(s) covered, method, url(world), data(world) or None, api?, expected[, api format])
ROUTES = {
    "home": (["home"], "get", lambda w: "/", None, False, expect(FOUND)),
    "healthz": (["healthz"], "get", lambda w: "/healthz", None, False, expect(OK)),
    "ping": (["ping"], "get", lambda w: "/ping", None, False, expect(OK)),
    "favicon": (["favicon"], "get", lambda w: "/favicon.ico", None, False, expect(OK)),
    "login": (["login"], "get", lambda w: "/accounts/login/", None, False, expect(FOUND, anonymous=OK)),
    "logout": (["logout"], "post", lambda w: "/accounts/logout/", {}, False, expect(FOUND)),
    "programme": (["programme"], "get", lambda w: "/programme/", None, False,
                  expect(OK, anonymous=LOGIN, provider=FORBIDDEN, reviewer=FORBIDDEN)),
    "project list": (["project-list"], "get", lambda w: "/projects/", None, False,
                     expect(anonymous=LOGIN, **PROGRAMME_READERS)),
    "project detail": (["project-detail"], "get", lambda w: f"/projects/{w.project_a.code}/", None, False,
                       expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    "project award": (["project-award"], "post", lambda w: f"/projects/{w.project_a.code}/award/", award_form, False,
                      expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "project release": (["project-release"], "post",
                        lambda w: f"/projects/{w.project_a.code}/allocations/{w.allocation_a.public_id}/release/",
                        lambda w: {"reason": "matrix", "confirmed": "1"}, False,
                        expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "ministry list": (["ministry-list"], "get", lambda w: "/ministries/", None, False,
                      expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "ministry detail": (["ministry-detail"], "get", lambda w: f"/ministries/{w.ministry_a.code}/", None, False,
                        expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    "audit log": (["audit-log"], "get", lambda w: "/audit/", None, False, expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "admin": (["admin"], "get", lambda w: "/admin/", None, False, expect(FOUND, admin=OK)),
    "set language": (["set_language"], "post", lambda w: "/i18n/setlang/", {"language": "en"}, False, expect(FOUND)),
    "js catalog": (["javascript-catalog"], "get", lambda w: "/jsi18n/", None, False, expect(OK)),
    "schema": (["schema"], "get", lambda w: "/api/schema/", None, True, expect(OK)),
    "api docs": (["api-docs"], "get", lambda w: "/api/docs/", None, True, expect(OK)),
    "api root": (["v1:api-root"], "get", lambda w: "/api/v1/", None, True, expect(OK, anonymous=UNAUTH)),
    "api ministries": (["v1:ministry-list"], "get", lambda w: "/api/v1/ministries/", None, True,
                       expect(anonymous=UNAUTH, **PROGRAMME_READERS)),
    "api ministry": (["v1:ministry-detail"], "get", lambda w: f"/api/v1/ministries/{w.ministry_a.code}/", None, True,
                     expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api projects": (["v1:project-list"], "get", lambda w: "/api/v1/projects/", None, True,
                     expect(anonymous=UNAUTH, **PROGRAMME_READERS)),
    "api project": (["v1:project-detail"], "get", lambda w: f"/api/v1/projects/{w.project_a.code}/", None, True,
                    expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api project ledger": (["v1:project-ledger"], "get", lambda w: f"/api/v1/projects/{w.project_a.code}/ledger/",
                           None, True, expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api project award": (["v1:project-award"], "post", lambda w: f"/api/v1/projects/{w.project_a.code}/award/",
                          api_award, True, expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE)),
    "api providers": (["v1:provider-list"], "get", lambda w: "/api/v1/providers/", None, True,
                      expect(OK, anonymous=UNAUTH)),
    "api provider": (["v1:provider-detail"], "get", lambda w: f"/api/v1/providers/{w.cluster.provider.code}/", None,
                     True, expect(OK, anonymous=UNAUTH)),
    "api clusters": (["v1:cluster-list"], "get", lambda w: "/api/v1/clusters/", None, True,
                     expect(OK, anonymous=UNAUTH)),
    "api cluster": (["v1:cluster-detail"], "get", lambda w: f"/api/v1/clusters/{w.cluster.code}/", None, True,
                    expect(OK, anonymous=UNAUTH)),
    "api capacity": (["v1:capacity"], "get", lambda w: "/api/v1/capacity/", None, True, expect(OK, anonymous=UNAUTH)),
    "api allocations": (["v1:allocation-list"], "get", lambda w: "/api/v1/allocations/", None, True,
                        expect(anonymous=UNAUTH, **PROGRAMME_READERS)),
    "api allocation": (["v1:allocation-detail"], "get", lambda w: f"/api/v1/allocations/{w.allocation_a.public_id}/",
                       None, True, expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api allocation release": (["v1:allocation-release"], "post",
                               lambda w: f"/api/v1/allocations/{w.allocation_a.public_id}/release/",
                               lambda w: {"reason": "matrix"}, True,
                               expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api audit events": (["v1:audit-event-list"], "get", lambda w: "/api/v1/audit-events/", None, True,
                         expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "project plan": (["project-plan"], "get", lambda w: f"/projects/{w.project_a.code}/plan/", None, False,
                     expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    "report new": (["report-new"], "get", lambda w: f"/projects/{w.project_a.code}/reports/new/?month=2026-06", None,
                   False, expect(anonymous=LOGIN, **OWN_MINISTRY_WRITE)),
    "report list": (["report-list"], "get", lambda w: "/reports/", None, False, expect(anonymous=LOGIN, **PROGRAMME_READERS)),
    "report upload": (["report-upload"], "get", lambda w: "/reports/upload/", None, False,
                      expect(anonymous=LOGIN, **REPORTERS)),
    "upload template": (["report-upload-template"], "get", lambda w: "/reports/upload/template.csv", None, False,
                        expect(anonymous=LOGIN, **REPORTERS)),
    "report detail": (["report-detail"], "get", lambda w: f"/reports/{report(w).public_id}/", None, False,
                      expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    # The report is submitted: its official is sent to read it (it waits for MSIT's review).
    "report edit": (["report-edit"], "get", lambda w: f"/reports/{report(w).public_id}/edit/", None, False,
                    expect(anonymous=LOGIN, **{**OWN_MINISTRY_WRITE, "official": FOUND})),
    "report evidence": (["report-evidence"], "get", lambda w: f"/reports/{report(w).public_id}/evidence/", None, False,
                        expect(anonymous=LOGIN, admin=OK, official=OK, outsider=NOT_FOUND, applicant=FORBIDDEN,
                               outsider_applicant=FORBIDDEN, auditor=OK)),
    "report accept": (["report-accept"], "post", lambda w: f"/reports/{report(w).public_id}/accept/", {}, False,
                      expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "report return": (["report-return"], "post", lambda w: f"/reports/{report(w).public_id}/return/",
                      {"reason": "matrix"}, False, expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "board": (["board"], "get", lambda w: "/monitoring/board/", None, False, expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "board export": (["board-export"], "get", lambda w: "/monitoring/board/export.xlsx", None, False,
                     expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "board report": (["board-report"], "get", lambda w: "/monitoring/board/report.pdf", None, False,
                     expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "outcomes": (["outcomes"], "get", lambda w: "/programme/outcomes/", None, False, expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "outcome rows": (["outcome-rows"], "get", lambda w: "/programme/outcomes/rows/?figure=awarded", None, False,
                     expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "api outcomes": (["v1:programme-outcomes"], "get", lambda w: "/api/v1/programme/outcomes/", None, True,
                     expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api outcome rows": (["v1:programme-outcome-rows"], "get", lambda w: "/api/v1/programme/outcomes/rows/?figure=idle",
                         None, True, expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "outcome simulations": (["outcome-simulations"], "get", lambda w: "/programme/outcomes/simulations/", None, False,
                            expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "outcome simulation start": (["outcome-simulations"], "post", lambda w: "/programme/outcomes/simulations/",
                                 simulation_form, False, expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "outcome simulation": (["outcome-simulation"], "get",
                           lambda w: f"/programme/outcomes/simulations/{simulation_run(w).public_id}/", None, False,
                           expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "api simulation start": (["v1:programme-simulations"], "post", lambda w: "/api/v1/programme/simulations/",
                             {"months": 1}, True, expect(anonymous=UNAUTH, admin=202, **ADMIN_ONLY_WRITE)),
    "api simulation": (["v1:programme-simulation"], "get",
                       lambda w: f"/api/v1/programme/simulations/{simulation_run(w).public_id}/", None, True,
                       expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api forecast": (["v1:programme-forecast"], "get", lambda w: "/api/v1/programme/forecast/", None, True,
                     expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "notifications": (["notification-list"], "get", lambda w: "/notifications/", None, False,
                      expect(anonymous=LOGIN, **EVERYONE)),
    "notifications read": (["notification-read"], "post", lambda w: "/notifications/read/", {}, False,
                           expect(FOUND, anonymous=LOGIN)),
    "api board": (["v1:board"], "get", lambda w: "/api/v1/board/", None, True, expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api reports": (["v1:report-list"], "get", lambda w: "/api/v1/reports/", None, True,
                    expect(anonymous=UNAUTH, **PROGRAMME_READERS)),
    "api report create": (["v1:report-list"], "post", lambda w: "/api/v1/reports/", lambda w: report_values(), True,
                          expect(anonymous=UNAUTH, admin=CREATED, official=CREATED, outsider=BAD, applicant=FORBIDDEN,
                                 outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api report": (["v1:report-detail"], "get", lambda w: f"/api/v1/reports/{report(w).public_id}/", None, True,
                   expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api report patch": (["v1:report-detail"], "patch", lambda w: f"/api/v1/reports/{report(w).public_id}/",
                         lambda w: {**report_values("2026-05"), "submit": True}, True,
                         expect(anonymous=UNAUTH, admin=OK, official=409, outsider=NOT_FOUND, applicant=FORBIDDEN,
                                outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api report submit": (["v1:report-submit"], "post", lambda w: f"/api/v1/reports/{report(w).public_id}/submit/",
                          {}, True, expect(anonymous=UNAUTH, admin=OK, official=409, outsider=NOT_FOUND,
                                           applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api report accept": (["v1:report-accept"], "post", lambda w: f"/api/v1/reports/{report(w).public_id}/accept/",
                          {}, True, expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api report return": (["v1:report-return"], "post", lambda w: f"/api/v1/reports/{report(w).public_id}/return/",
                          {"reason": "matrix"}, True, expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api report upload": (["v1:report-upload"], "post", lambda w: "/api/v1/reports/upload/", upload_file, True,
                          expect(anonymous=UNAUTH, admin=CREATED, official=CREATED, outsider=BAD, applicant=FORBIDDEN,
                                 outsider_applicant=FORBIDDEN, auditor=FORBIDDEN), "multipart"),
    "api metering telemetry": (["v1:metering-telemetry"], "post", lambda w: "/api/v1/metering/telemetry/",
                               lambda w: {"provider": w.cluster.provider.code, "first_day": "2026-10-01",
                                          "last_day": "2026-10-01"}, True,
                               expect(FORBIDDEN, anonymous=UNAUTH, admin=BAD, provider=BAD)),
    "metering": (["metering"], "get", lambda w: "/metering/", None, False,
                 expect(anonymous=LOGIN, admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=FORBIDDEN,
                        outsider_applicant=FORBIDDEN, auditor=OK)),
    "api metering sacct": (["v1:metering-sacct"], "post", lambda w: "/api/v1/metering/sacct/", sacct_file, True,
                           expect(anonymous=UNAUTH, admin=CREATED, official=FORBIDDEN, outsider=FORBIDDEN,
                                  applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN), "multipart"),
    "api notifications": (["v1:notification-list"], "get", lambda w: "/api/v1/notifications/", None, True,
                          expect(anonymous=UNAUTH, **EVERYONE)),
    "api notifications read": (["v1:notification-read"], "post", lambda w: "/api/v1/notifications/read/", {}, True,
                               expect(anonymous=UNAUTH, **EVERYONE)),
    "api project usage": (["v1:project-usage"], "get", lambda w: f"/api/v1/projects/{w.project_a.code}/usage/", None,
                          True, expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api project metered usage": (["v1:project-metered-usage"], "get",
                                  lambda w: f"/api/v1/projects/{w.project_a.code}/metered-usage/", None,
                                  True, expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api project plan": (["v1:project-plan"], "get", lambda w: f"/api/v1/projects/{w.project_a.code}/plan/", None,
                         True, expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api project plan put": (["v1:project-plan"], "put", lambda w: f"/api/v1/projects/{w.project_a.code}/plan/",
                             lambda w: [], True, expect(anonymous=UNAUTH, **OWN_MINISTRY_WRITE)),
    "lending public": (["lending-public"], "get", lambda w: "/lending/", None, False, expect(OK)),
    "privacy policy": (["privacy"], "get", lambda w: "/privacy/", None, False, expect(OK)),
    "lending signup": (["lending-signup"], "get", lambda w: "/lending/signup/", None, False, expect(FOUND, anonymous=OK)),
    "lending dashboard": (["lending-dashboard"], "get", lambda w: "/lending/dashboard/", None, False,
                          expect(anonymous=LOGIN, **APPLICANTS)),
    "lending organisation": (["lending-organisation"], "get", lambda w: "/lending/organisation/", None, False,
                             expect(anonymous=LOGIN, **{**APPLICANTS, "applicant": FOUND, "outsider_applicant": FOUND})),
    "lending request new": (["lending-request-new"], "get", lambda w: "/lending/requests/new/", None, False,
                            expect(anonymous=LOGIN, **APPLICANTS)),
    "lending request": (["lending-request"], "get", lambda w: f"/lending/requests/{loan_request(w).public_id}/", None,
                        False, expect(anonymous=LOGIN, **ORG_A_OBJECT)),
    "lending request edit": (["lending-request-edit"], "get",
                             lambda w: f"/lending/requests/{loan_request(w).public_id}/edit/", None, False,
                             expect(anonymous=LOGIN, **ORG_A_WRITE)),
    "lending request withdraw": (["lending-request-withdraw"], "post",
                                 lambda w: f"/lending/requests/{loan_request(w).public_id}/withdraw/", {}, False,
                                 expect(anonymous=LOGIN, admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN,
                                        applicant=FOUND, outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)),
    "lending request review": (["lending-request-review"], "post",
                               lambda w: f"/lending/requests/{loan_request(w).public_id}/review/score/", {"score": "50"},
                               False, expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "lending queue": (["lending-queue"], "get", lambda w: "/lending/queue/", None, False,
                      expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "lending loans": (["lending-loans"], "get", lambda w: "/lending/loans/", None, False,
                      expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "lending loan": (["lending-loan"], "get", lambda w: f"/lending/loans/{loan(w).public_id}/", None, False,
                     expect(anonymous=LOGIN, **ORG_A_OBJECT)),
    "lending loan action": (["lending-loan-action"], "post", lambda w: f"/lending/loans/{loan(w).public_id}/return/", {"confirmed": "1"},
                            False, expect(anonymous=LOGIN, admin=FOUND, official=FORBIDDEN, outsider=FORBIDDEN,
                                          applicant=FOUND, outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)),
    "project start": (["project-start"], "post", lambda w: f"/projects/{w.project_a2.code}/start/",
                      {"started_on": "2026-09-01", "confirmed": "1"}, False,
                      expect(anonymous=LOGIN, admin=FOUND, official=FOUND, outsider=NOT_FOUND, applicant=FORBIDDEN,
                             outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "project expected start": (["project-expected-start"], "post", lambda w: f"/projects/{w.project_a2.code}/expected-start/",
                               {"expected_start": "2027-01-04", "reason": "delay"}, False,
                               expect(anonymous=LOGIN, admin=FOUND, official=FOUND, outsider=NOT_FOUND,
                                      applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "calls": (["calls"], "get", lambda w: "/calls/", None, False, expect(OK)),
    "call": (["call"], "get", lambda w: "/calls/nat-2027/", None, False, expect(OK)),
    "call round add": (["call-round-add"], "post", lambda w: "/calls/nat-2027/rounds/", {"closes_on": "2026-11-30"},
                       False, expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "api calls": (["v1:call-list"], "get", lambda w: "/api/v1/calls/", None, True, expect(OK)),
    "api call": (["v1:call-detail"], "get", lambda w: "/api/v1/calls/nat-2027/", None, True, expect(OK)),
    "api call rounds": (["v1:call-rounds"], "post", lambda w: "/api/v1/calls/nat-2027/rounds/",
                        lambda w: {"closes_on": "2026-11-30"}, True,
                        expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "call propose": (["call-propose"], "get", lambda w: "/calls/nat-2027/propose/", None, False,
                     expect(anonymous=LOGIN, admin=FORBIDDEN, official=OK, outsider=OK, applicant=FORBIDDEN,
                            outsider_applicant=FORBIDDEN, auditor=FORBIDDEN, provider=FORBIDDEN)),
    "call propose post": (["call-propose"], "post", lambda w: "/calls/nat-2027/propose/",
                          lambda w: {k: v for k, v in national_body(w).items() if k != "call"}, False,
                          expect(anonymous=LOGIN, admin=FORBIDDEN, official=FOUND, outsider=FOUND, applicant=FORBIDDEN,
                                 outsider_applicant=FORBIDDEN, auditor=FORBIDDEN, provider=FORBIDDEN)),
    "call proposals": (["call-proposals"], "get", lambda w: "/calls/short-term-rolling/proposals/", None, False,
                       expect(anonymous=LOGIN, **ADMIN_AUDITOR, provider=FORBIDDEN)),
    # A short-term proposal: officials pass the page's role check, and find nothing (404).
    "call proposal": (["call-proposal"], "get", lambda w: f"/calls/short-term-rolling/proposals/{call_proposal(w).public_id}/",
                      None, False, expect(anonymous=LOGIN, **{**ADMIN_AUDITOR, "official": NOT_FOUND, "outsider": NOT_FOUND},
                                          provider=FORBIDDEN)),
    "call proposal national": (["call-proposal"], "get",
                               lambda w: f"/calls/nat-2027/proposals/{national_proposal(w).public_id}/", None, False,
                               expect(anonymous=LOGIN, **MINISTRY_A_OBJECT, provider=FORBIDDEN)),
    "call proposal action": (["call-proposal-action"], "post",
                             lambda w: f"/calls/short-term-rolling/proposals/{call_proposal(w).public_id}/assign/",
                             {"reviewer": "expert_two"}, False,
                             expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "reviews": (["reviews"], "get", lambda w: "/reviews/", None, False, expect(anonymous=LOGIN, **NOBODY_ELSE)),
    "review": (["review"], "get", lambda w: f"/reviews/{assignment(w).public_id}/", None, False,
               expect(anonymous=LOGIN, **NOBODY_ELSE)),
    "review other": (["review"], "get", lambda w: f"/reviews/{assignment(w, mine=False).public_id}/", None, False,
                     expect(anonymous=LOGIN, **NOBODY_ELSE)),
    "review conflict": (["review-conflict"], "post", lambda w: "/reviews/conflicts/",
                        lambda w: {"registration_number": w.org_b.registration_number, "relationship": "matrix"},
                        False, expect(anonymous=LOGIN, **NOBODY_ELSE)),
    # Officials see their own ministry's national proposals.
    "api call proposals": (["v1:call-proposal-list"], "get", lambda w: "/api/v1/call-proposals/", None, True,
                           expect(anonymous=UNAUTH, **{**ADMIN_AUDITOR, "official": OK, "outsider": OK}, provider=FORBIDDEN)),
    "api call proposal create": (["v1:call-proposal-list"], "post", lambda w: "/api/v1/call-proposals/", national_body,
                                 True, expect(anonymous=UNAUTH, admin=FORBIDDEN, official=CREATED, outsider=CREATED,
                                              applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN,
                                              provider=FORBIDDEN)),
    "api call proposal": (["v1:call-proposal-detail"], "get",
                          lambda w: f"/api/v1/call-proposals/{call_proposal(w).public_id}/", None, True,
                          expect(anonymous=UNAUTH, **{**ADMIN_AUDITOR, "official": NOT_FOUND, "outsider": NOT_FOUND},
                                 provider=FORBIDDEN)),
    "api call proposal unassigned": (["v1:call-proposal-detail"], "get",
                                     lambda w: f"/api/v1/call-proposals/{call_proposal(w, mine=False).public_id}/",
                                     None, True, expect(anonymous=UNAUTH, **{**ADMIN_AUDITOR, "official": NOT_FOUND,
                                                        "outsider": NOT_FOUND}, provider=FORBIDDEN)),
    "api call proposal national": (["v1:call-proposal-detail"], "get",
                                   lambda w: f"/api/v1/call-proposals/{national_proposal(w).public_id}/", None, True,
                                   expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT, provider=FORBIDDEN)),
    "api call proposal assign": (["v1:call-proposal-assign"], "post",
                                 lambda w: f"/api/v1/call-proposals/{call_proposal(w).public_id}/assign/",
                                 lambda w: {"reviewer": "expert_two"}, True,
                                 expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "api call proposal revise": (["v1:call-proposal-revise"], "post",
                                 lambda w: f"/api/v1/call-proposals/{call_proposal(w).public_id}/revise/",
                                 lambda w: {"note": "matrix"}, True,
                                 expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "api call proposal advance": (["v1:call-proposal-advance"], "post",
                                  lambda w: f"/api/v1/call-proposals/{national_proposal(w).public_id}/advance/",
                                  lambda w: {"stage": "committee", "note": "matrix"}, True,
                                  expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    # One review of the three needed is in: the decision is refused (409) for MSIT, forbidden to others.
    "api call proposal decide": (["v1:call-proposal-decide"], "post",
                                 lambda w: f"/api/v1/call-proposals/{call_proposal(w).public_id}/decide/",
                                 lambda w: {"selected": True, "rank": 1, "reason": "matrix"}, True,
                                 expect(anonymous=UNAUTH, admin=409, **ADMIN_ONLY_WRITE, provider=FORBIDDEN)),
    "api reviews": (["v1:call-review-list"], "get", lambda w: "/api/v1/reviews/", None, True,
                    expect(anonymous=UNAUTH, **NOBODY_ELSE)),
    "api review": (["v1:call-review-detail"], "get", lambda w: f"/api/v1/reviews/{assignment(w).public_id}/", None,
                   True, expect(anonymous=UNAUTH, **NOBODY_ELSE)),
    "api review other": (["v1:call-review-detail"], "get",
                         lambda w: f"/api/v1/reviews/{assignment(w, mine=False).public_id}/", None, True,
                         expect(anonymous=UNAUTH, **NOBODY_ELSE)),
    "api review scores": (["v1:call-review-scores"], "post", lambda w: f"/api/v1/reviews/{assignment(w).public_id}/scores/",
                          lambda w: {"scores": [{"criterion": c, "score": 4, "comment": "matrix"}
                                                for c in ("impact", "ecosystem", "readiness")]}, True,
                          expect(anonymous=UNAUTH, **NOBODY_ELSE)),
    "api review conflicts": (["v1:call-review-conflicts"], "post", lambda w: "/api/v1/reviews/conflicts/",
                             lambda w: {"registration_number": w.org_b.registration_number, "relationship": "matrix"},
                             True, expect(anonymous=UNAUTH, **NOBODY_ELSE)),
    "api lending calendar": (["v1:lending-calendar"], "get", lambda w: "/api/v1/lending/calendar/", None, True, expect(OK)),
    "api loan requests": (["v1:loan-request-list"], "get", lambda w: "/api/v1/loan-requests/", None, True,
                          expect(anonymous=UNAUTH, admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=OK,
                                 outsider_applicant=OK, auditor=OK)),
    "api loan request create": (["v1:loan-request-list"], "post", lambda w: "/api/v1/loan-requests/", request_body, True,
                                expect(anonymous=UNAUTH, admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN,
                                       applicant=CREATED, outsider_applicant=CREATED, auditor=FORBIDDEN)),
    "api loan request": (["v1:loan-request-detail"], "get", lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/",
                         None, True, expect(anonymous=UNAUTH, **ORG_A_OBJECT)),
    "api loan request resubmit": (["v1:loan-request-resubmit"], "post",
                                  lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/resubmit/",
                                  lambda w: {**request_body(w), "starts_on": "2026-10-05", "ends_on": "2026-10-30"}, True,
                                  expect(anonymous=UNAUTH, **ORG_A_WRITE)),
    "api loan request withdraw": (["v1:loan-request-withdraw"], "post",
                                  lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/withdraw/", {}, True,
                                  expect(anonymous=UNAUTH, **ORG_A_WRITE)),
    "api loan request score": (["v1:loan-request-score"], "post",
                               lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/score/", {"score": 60}, True,
                               expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan request changes": (["v1:loan-request-request-changes"], "post",
                                 lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/request-changes/",
                                 {"note": "less"}, True, expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan request reject": (["v1:loan-request-reject"], "post",
                                lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/reject/", {"reason": "no"},
                                True, expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan request proposal": (["v1:loan-request-proposal"], "get",
                                  lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/proposal/", None, True,
                                  expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan request approve": (["v1:loan-request-approve"], "post",
                                 lambda w: f"/api/v1/loan-requests/{loan_request(w).public_id}/approve/", proposal_gpus,
                                 True, expect(anonymous=UNAUTH, admin=CREATED, official=FORBIDDEN, outsider=FORBIDDEN,
                                              applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api loans": (["v1:loan-list"], "get", lambda w: "/api/v1/loans/", None, True,
                  expect(anonymous=UNAUTH, admin=OK, official=FORBIDDEN, outsider=FORBIDDEN, applicant=OK,
                         outsider_applicant=OK, auditor=OK)),
    "api loan": (["v1:loan-detail"], "get", lambda w: f"/api/v1/loans/{loan(w).public_id}/", None, True,
                 expect(anonymous=UNAUTH, **ORG_A_OBJECT)),
    "api loan return": (["v1:loan-return"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/return/", {}, True,
                        expect(anonymous=UNAUTH, **ORG_A_WRITE)),
    "api loan renew": (["v1:loan-renew"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/renew/",
                       {"ends_on": "2026-11-30", "reason": "more"}, True,
                       expect(anonymous=UNAUTH, admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=409,
                              outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)),
    # The matrix's loan is active, not an offer: its organisation is told so (409), others never reach it.
    "api loan accept": (["v1:loan-accept"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/accept/", {}, True,
                        expect(anonymous=UNAUTH, admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=409,
                               outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)),
    "api loan decline": (["v1:loan-decline"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/decline/", {}, True,
                         expect(anonymous=UNAUTH, admin=FORBIDDEN, official=FORBIDDEN, outsider=FORBIDDEN, applicant=409,
                                outsider_applicant=NOT_FOUND, auditor=FORBIDDEN)),
    "api loan decide renewal": (["v1:loan-decide-renewal"], "post",
                                lambda w: f"/api/v1/loans/{loan(w).public_id}/decide-renewal/", {"approve": False}, True,
                                expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan recall": (["v1:loan-recall"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/recall/",
                        {"reason": "need"}, True, expect(anonymous=UNAUTH, **ADMIN_WRITE_ON_ORG_A)),
    "api loan end report": (["v1:loan-end-report"], "post", lambda w: f"/api/v1/loans/{loan(w).public_id}/end-report/",
                            {"text": "done"}, True, expect(anonymous=UNAUTH, **ORG_A_WRITE)),
    "api project start": (["v1:project-start"], "post", lambda w: f"/api/v1/projects/{w.project_a2.code}/start/",
                          {"started_on": "2026-09-01"}, True,
                          expect(anonymous=UNAUTH, admin=OK, official=OK, outsider=NOT_FOUND, applicant=FORBIDDEN,
                                 outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api project expected start": (["v1:project-expected-start"], "post",
                                   lambda w: f"/api/v1/projects/{w.project_a2.code}/expected-start/",
                                   {"expected_start": "2027-01-04", "reason": "delay"}, True,
                                   expect(anonymous=UNAUTH, admin=OK, official=OK, outsider=NOT_FOUND,
                                          applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "case list": (["case-list"], "get", lambda w: "/monitoring/cases/", None, False,
                  expect(anonymous=LOGIN, **PROGRAMME_READERS)),
    "case detail": (["case-detail"], "get", lambda w: f"/monitoring/cases/{case(w).public_id}/", None, False,
                    expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    "case evidence": (["case-evidence"], "get", lambda w: f"/monitoring/cases/{case(w).public_id}/evidence/", None,
                      False, expect(anonymous=LOGIN, **MINISTRY_A_OBJECT)),
    "case respond": (["case-action"], "post", lambda w: f"/monitoring/cases/{case(w).public_id}/respond/",
                     {"response_kind": "explanation", "response_text": "matrix"}, False,
                     expect(anonymous=LOGIN, admin=BAD, official=FOUND, outsider=NOT_FOUND, applicant=FORBIDDEN,
                            outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "case off-purpose new": (["case-off-purpose-new"], "get", lambda w: "/monitoring/cases/off-purpose/new/", None, False,
                             expect(anonymous=LOGIN, admin=OK, **ADMIN_ONLY_WRITE)),
    "checks": (["checks"], "get", lambda w: "/monitoring/checks/", None, False, expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "policy page": (["policy"], "get", lambda w: "/monitoring/policy/", None, False, expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "redistribution": (["redistribution"], "get", lambda w: "/monitoring/redistribution/", None, False,
                       expect(anonymous=LOGIN, **ADMIN_AUDITOR)),
    "redistribution propose": (["redistribution-action"], "post", lambda w: "/monitoring/redistribution/propose/", {},
                               False, expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "redistribution approve": (["redistribution-proposal-action"], "post",
                               lambda w: f"/monitoring/redistribution/{proposal(w).public_id}/approve/", {"confirmed": "1"}, False,
                               expect(anonymous=LOGIN, admin=FOUND, **ADMIN_ONLY_WRITE)),
    "project gpu request": (["project-gpu-request"], "post", lambda w: f"/projects/{w.project_a.code}/gpu-request/",
                            {"servers": "1", "reason": "matrix"}, False,
                            expect(anonymous=LOGIN, admin=FOUND, official=FOUND, outsider=NOT_FOUND, applicant=FORBIDDEN,
                                   outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api cases": (["v1:case-list"], "get", lambda w: "/api/v1/cases/", None, True,
                  expect(anonymous=UNAUTH, **PROGRAMME_READERS)),
    "api case": (["v1:case-detail"], "get", lambda w: f"/api/v1/cases/{case(w).public_id}/", None, True,
                 expect(anonymous=UNAUTH, **MINISTRY_A_OBJECT)),
    "api case respond": (["v1:case-respond"], "post", lambda w: f"/api/v1/cases/{case(w).public_id}/respond/",
                         {"response_kind": "explanation", "response_text": "matrix"}, True,
                         expect(anonymous=UNAUTH, admin=FORBIDDEN, official=OK, outsider=NOT_FOUND, applicant=FORBIDDEN,
                                outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api case decide": (["v1:case-decide"], "post", lambda w: f"/api/v1/cases/{case(w).public_id}/decide/",
                        {"decision": "rejected", "reason": "matrix"}, True,
                        expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api case resolve": (["v1:case-resolve"], "post", lambda w: f"/api/v1/cases/{case(w).public_id}/resolve/",
                         {"reason": "matrix"}, True, expect(anonymous=UNAUTH, admin=409, **ADMIN_ONLY_WRITE)),
    "api case suspend": (["v1:case-suspend"], "post", lambda w: f"/api/v1/cases/{case(w).public_id}/suspend/",
                         {"reason": "matrix"}, True, expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api case off-purpose": (["v1:case-off-purpose"], "post", lambda w: "/api/v1/cases/off-purpose/",
                             lambda w: {"project": w.project_b.code, "month": "2026-08", "note": "matrix"}, True,
                             expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE)),
    "api checks": (["v1:check-list"], "get", lambda w: "/api/v1/checks/", None, True,
                   expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api check run": (["v1:check-list"], "post", lambda w: "/api/v1/checks/", {"month": "2026-08"}, True,
                      expect(anonymous=UNAUTH, admin=202, **ADMIN_ONLY_WRITE)),
    "api policy": (["v1:policy"], "get", lambda w: "/api/v1/policy/", None, True, expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api policy change": (["v1:policy"], "post", lambda w: "/api/v1/policy/",
                          {"grace_days": 60, "tier1_below": "0.3", "tier1_share": "0.5", "tier2_below": "0.6",
                           "tier2_share": "0.25", "response_days": 7, "rounding": "down", "floor_servers": 1,
                           "reason": "matrix"}, True, expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE)),
    "api proposals": (["v1:proposal-list"], "get", lambda w: "/api/v1/redistribution/proposals/", None, True,
                      expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api proposal": (["v1:proposal-detail"], "get",
                     lambda w: f"/api/v1/redistribution/proposals/{proposal(w).public_id}/", None, True,
                     expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "api proposals propose": (["v1:proposal-propose"], "post", lambda w: "/api/v1/redistribution/proposals/propose/", {},
                              True, expect(anonymous=UNAUTH, admin=CREATED, **ADMIN_ONLY_WRITE)),
    "api proposal approve": (["v1:proposal-approve"], "post",
                             lambda w: f"/api/v1/redistribution/proposals/{proposal(w).public_id}/approve/", {}, True,
                             expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api proposal reject": (["v1:proposal-reject"], "post",
                            lambda w: f"/api/v1/redistribution/proposals/{proposal(w).public_id}/reject/", {}, True,
                            expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api proposals approve all": (["v1:proposal-approve-all"], "post",
                                  lambda w: "/api/v1/redistribution/proposals/approve-all/", {}, True,
                                  expect(anonymous=UNAUTH, admin=OK, **ADMIN_ONLY_WRITE)),
    "api project gpu request": (["v1:project-gpu-request"], "post",
                                lambda w: f"/api/v1/projects/{w.project_a.code}/gpu-request/",
                                {"servers": 1, "reason": "matrix"}, True,
                                expect(anonymous=UNAUTH, admin=CREATED, official=CREATED, outsider=NOT_FOUND,
                                       applicant=FORBIDDEN, outsider_applicant=FORBIDDEN, auditor=FORBIDDEN)),
    "api audit event": (["v1:audit-event-detail"], "get",
                        lambda w: f"/api/v1/audit-events/{AuditEvent.objects.first().public_id}/", None, True,
                        expect(anonymous=UNAUTH, **ADMIN_AUDITOR)),
    "password change": (["password_change"], "get", lambda w: "/accounts/password/", None, False,
                        expect(OK, anonymous=LOGIN)),
    "password changed": (["password_change_done"], "get", lambda w: "/accounts/password/done/", None, False,
                         expect(OK, anonymous=LOGIN)),
    # The second factor's pages: the matrix's admin and provider operator have an authenticator, and
    # their sessions gave it (tests.factories.sign_in); the others have none and need none.
    "second factor": (["second-factor"], "get", lambda w: "/accounts/second-factor/", None, False,
                      expect(OK, anonymous=LOGIN)),
    "second factor set up": (["second-factor-enrol"], "get", lambda w: "/accounts/second-factor/set-up/", None, False,
                             expect(OK, anonymous=LOGIN, admin=FOUND, provider=FOUND)),
    "second factor verify": (["second-factor-verify"], "get", lambda w: "/accounts/second-factor/verify/", None, False,
                             expect(FOUND, anonymous=LOGIN)),
    "second factor reset": (["second-factor-reset"], "get", lambda w: "/accounts/second-factor/reset/", None, False,
                            expect(FOUND, anonymous=LOGIN, admin=OK, provider=OK)),
    "second factor new recovery codes": (["second-factor-recovery-codes"], "get",
                                         lambda w: "/accounts/second-factor/recovery-codes/", None, False,
                                         expect(FOUND, anonymous=LOGIN, admin=OK, provider=OK)),
    # Single sign-on is not configured in the test settings: its addresses do not exist (tests/sso/ turn it on).
    "sso start": (["sso-start"], "get", lambda w: "/accounts/sso/", None, False, expect(NOT_FOUND)),
    "sso callback": (["oidc_authentication_callback"], "get", lambda w: "/accounts/sso/callback/?code=x&state=y", None,
                     False, expect(NOT_FOUND)),
    "api token page": (["api-token"], "get", lambda w: "/accounts/token/", None, False, expect(OK, anonymous=LOGIN)),
    "api own token": (["v1:own-token"], "get", lambda w: "/api/v1/token/", None, True, expect(OK, anonymous=UNAUTH)),
    "api tokens": (["v1:token-list"], "get", lambda w: "/api/v1/tokens/", None, True,
                   expect(FORBIDDEN, anonymous=UNAUTH, admin=OK)),
    "people list": (["people-list"], "get", lambda w: "/people/", None, False, expect(anonymous=LOGIN, **SEES_PEOPLE)),
    "people invite page": (["people-invite"], "get", lambda w: "/people/invite/", None, False,
                           expect(anonymous=LOGIN, **{**SEES_PEOPLE, "auditor": FORBIDDEN})),
    # Officials invite into their own ministry and applicants into their own organisation, whatever is posted.
    "people invite": (["people-invite"], "post", lambda w: "/people/invite/",
                      lambda w: {"email": "matrix@mina.go.kr", "display_name": "m", "role": "official",
                                 "ministry": w.ministry_a.pk}, False,
                      expect(FOUND, anonymous=LOGIN, auditor=FORBIDDEN, provider=FORBIDDEN, reviewer=FORBIDDEN)),
    "invitation link unknown": (["invitation-accept"], "get", lambda w: "/people/invitations/not-a-token/", None, False,
                                expect(NOT_FOUND)),
    "person detail": (["person-detail"], "get", lambda w: f"/people/{colleague(w)}/", None, False,
                      expect(anonymous=LOGIN, **MINISTRY_A_PERSON)),
    "person change": (["person-action"], "post", lambda w: f"/people/{colleague(w)}/change/",
                      lambda w: {"role": "official", "ministry": w.ministry_b.pk, "reason": "matrix"}, False,
                      expect(anonymous=LOGIN, **{**MANAGES_MINISTRY_A_PERSON, "official": FORBIDDEN})),
    "person deactivate": (["person-action"], "post", lambda w: f"/people/{colleague(w)}/deactivate/",
                          {"reason": "matrix", "confirmed": "1"}, False,
                          expect(anonymous=LOGIN, **MANAGES_MINISTRY_A_PERSON)),
    "person reactivate": (["person-action"], "post", lambda w: f"/people/{colleague(w, 'deactivated')}/reactivate/",
                          {"reason": "matrix"}, False, expect(anonymous=LOGIN, **MANAGES_MINISTRY_A_PERSON)),
    "person reinvite": (["person-action"], "post", lambda w: f"/people/{colleague(w, 'invited')}/reinvite/", {}, False,
                        expect(anonymous=LOGIN, **MANAGES_MINISTRY_A_PERSON)),
    "api people": (["v1:person-list"], "get", lambda w: "/api/v1/people/", None, True,
                   expect(anonymous=UNAUTH, **SEES_PEOPLE)),
    "api people invite": (["v1:person-list"], "post", lambda w: "/api/v1/people/",
                          {"email": "matrix@mina.go.kr", "role": "official", "ministry": "mina"}, True,
                          expect(FORBIDDEN, anonymous=UNAUTH, admin=CREATED, official=CREATED)),
    "api person": (["v1:person-detail"], "get", lambda w: f"/api/v1/people/{colleague(w)}/", None, True,
                   expect(anonymous=UNAUTH, **MINISTRY_A_PERSON)),
    "api person change": (["v1:person-change"], "post", lambda w: f"/api/v1/people/{colleague(w)}/change/",
                          {"role": "official", "ministry": "minb", "reason": "matrix"}, True,
                          expect(anonymous=UNAUTH, **{**API_MANAGES_MINISTRY_A_PERSON, "official": FORBIDDEN})),
    "api person deactivate": (["v1:person-deactivate"], "post", lambda w: f"/api/v1/people/{colleague(w)}/deactivate/",
                              {"reason": "matrix"}, True, expect(anonymous=UNAUTH, **API_MANAGES_MINISTRY_A_PERSON)),
    "api person reactivate": (["v1:person-reactivate"], "post",
                              lambda w: f"/api/v1/people/{colleague(w, 'deactivated')}/reactivate/", {}, True,
                              expect(anonymous=UNAUTH, **API_MANAGES_MINISTRY_A_PERSON)),
    "api person reinvite": (["v1:person-reinvite"], "post",
                            lambda w: f"/api/v1/people/{colleague(w, 'invited')}/reinvite/", {}, True,
                            expect(anonymous=UNAUTH, **API_MANAGES_MINISTRY_A_PERSON)),
    "api token revoke": (["v1:token-detail"], "delete", lambda w: f"/api/v1/tokens/{outsider_token(w)}/", None, True,
                         expect(FORBIDDEN, anonymous=UNAUTH, admin=204)),
}

# URL names that are not pages of their own: the admin's internal views (guarded by the admin
# site's own permission check, covered by "admin"), DRF's format-suffix twins, static files.
IGNORED_PREFIXES = ("admin:",)


def _all_url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _all_url_names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_route_is_in_the_matrix():
    covered = {name for names, *_ in ROUTES.values() for name in names}
    missing = {n for n in _all_url_names() if not n.startswith(IGNORED_PREFIXES)} - covered - {"admin"}
    assert not missing, f"routes missing from the permission matrix: {sorted(missing)}"


CASES = [(route, role) for route in ROUTES for role in ROLES]


@pytest.fixture
def matrix_world(world, clock):
    """The role world (clock: 2026-09-10) plus a submitted May report of project A, a notice for
    each user, organisation A's open request and its active loan with a renewal asked for, an
    off-purpose case on project A and a redistribution proposal for the open request."""
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from lending import services as lending
    from monitoring.services import report_save
    from tests import factories as f
    from tests.lending.conftest import request_values
    from tests.monitoring.conftest import values

    report_save(actor=None, project=world.project_a, month=dt.date(2026, 5, 1), submit=True,
                values=values(peak_gpus_busy=8, gpu_hours_used=Decimal(100)),
                evidence=SimpleUploadedFile("slurm.csv", b"job,gpu_hours\n1,100\n"))
    lending.request_submit(actor=world.applicant, values=request_values(starts_on=dt.date(2026, 10, 1),
                                                                       ends_on=dt.date(2026, 10, 31)))
    active = f.make_loan(world.org_a, gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-006"))[:2],
                         start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))
    lending.loan_request_renewal(actor=world.applicant, loan=active, ends_on=dt.date(2026, 10, 31), reason="more")
    from monitoring import reclamation, redistribution

    reclamation.off_purpose_open(actor=world.admin, project=world.project_a, month=dt.date(2026, 8, 1), note="matrix",
                                 evidence_file=SimpleUploadedFile("audit.pdf", b"%PDF-1.4"))
    redistribution.redistribution_propose(actor=world.admin)
    from calls import services_review
    from calls.models import Call, Criterion
    from calls.services import rolling_call

    rolling = rolling_call()
    if not rolling.criteria.exists():  # a transactional test before this one may have emptied the table
        for position, code in enumerate(("impact", "ecosystem", "readiness")):
            Criterion.objects.create(call=rolling, code=code, position=position, name_ko=code, name_en=code, weight=30,
                                     rubric=[{"score": s, "ko": str(s), "en": str(s)} for s in (5, 4, 3, 2, 1)])
    lending.request_submit(actor=world.outsider_applicant, values=request_values(starts_on=dt.date(2026, 10, 1),
                                                                                ends_on=dt.date(2026, 10, 31)))
    experts = [world.reviewer, f.make_user("reviewer", username="expert_one"), f.make_user("reviewer", username="expert_two")]
    services_review.assignment_create(actor=world.admin, proposal=call_proposal(world), reviewer=experts[0])
    services_review.assignment_create(actor=world.admin, proposal=call_proposal(world, mine=False), reviewer=experts[1])
    services_review.review_submit(actor=experts[1], assignment=assignment(world, mine=False),
                                  scores=dict.fromkeys(("impact", "ecosystem", "readiness"), (4, "matrix")))
    national = Call.objects.create(code="nat-2027", kind="national", name_ko="2027 국가 프로젝트 공모",
                                   name_en="2027 national project call", opens_on=dt.date(2026, 9, 1))
    from calls.models import Proposal, Round, Stage

    for position, (code, ko, en) in enumerate([("screening", "사전 검토", "Pre-screening"),
                                               ("committee", "조정위원회", "Coordination committee")]):
        Stage.objects.create(call=national, code=code, position=position, name_ko=ko, name_en=en)

    # A round open on the clock's day, and ministry A's national proposal in it.
    first = Round.objects.create(call=national, number=1, opens_on=dt.date(2026, 9, 1), closes_on=dt.date(2026, 9, 30))
    Proposal.objects.create(call=national, round=first, ministry=world.ministry_a, title="가부 과제", gpu_model="B200",
                            gpu_count=8, months=6, starts_on=dt.date(2027, 1, 4), submitted_at=dt.datetime.now(dt.UTC))
    for role in ROLES[1:]:
        Notification.objects.create(user=world.user(role), kind="general", title="t", body="b", dedup_key="matrix")
    from outcomes.models import SimulationRun

    SimulationRun.objects.create(requested_by=world.admin, first_month=dt.date(2026, 4, 1), months=1, seed=1)
    return world


@pytest.mark.parametrize("route, role", CASES, ids=[f"{r}-{role}" for r, role in CASES])
def test_permission_matrix(matrix_world, client_for, api_for, route, role):
    world = matrix_world
    _names, method, url, data, is_api, expected, *rest = ROUTES[route]
    user = world.user(role)
    client = api_for(user) if is_api else client_for(user)
    payload = data(world) if callable(data) else data
    kwargs = {"format": rest[0] if rest else "json"} if is_api and method in ("post", "put", "patch") else {}
    response = getattr(client, method)(url(world), payload, **kwargs) if payload is not None else getattr(client, method)(url(world))
    want = expected[role]
    if role == "reviewer" and want is None:
        # An expert reviewer sees the proposals assigned to them, scores them, declares conflicts, and
        # nothing else.
        want = REVIEWER_SEES.get(route, FORBIDDEN)
    if role == "provider" and want is None:
        # A provider's operator sees its servers and their measured use, sends usage, and nothing else.
        want = PROVIDER_OPERATOR.get(route, FORBIDDEN)
    if want == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response.status_code
    else:
        assert response.status_code == want, (response.status_code, getattr(response, "content", b"")[:300])
    if is_api and response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
