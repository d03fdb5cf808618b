"""The case page offers the decision only when it is allowed, asks for confirmation naming what the
decision moves, and says a refused step once."""

import datetime as dt
from decimal import Decimal

import pytest

from monitoring import reclamation
from monitoring.models import ReclamationCase
from tests.monitoring.conftest import AUG, KST

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world, started, clock):
    project = started("C-TIER1", used_share=Decimal("0.2"))
    reclamation.monthly_check_run(month=AUG)
    return ReclamationCase.objects.get(project=project)


def test_the_decision_form_waits_for_the_response_or_the_window(world, case, client_for, clock):
    admin = client_for(world.admin)
    url = f"/monitoring/cases/{case.public_id}/"
    assert 'data-testid="decide-form"' not in admin.get(url).content.decode()
    refused = admin.post(f"{url}decide/", {"decision": "approved", "servers": 1, "reason": "r", "confirmed": "1"})
    page = refused.content.decode()
    assert refused.status_code == 400 and page.count('data-testid="case-refusal"') == 1
    assert page.count("may respond until") == 1  # the refusal, said once
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="Late data.")
    assert 'data-testid="decide-form"' in admin.get(url).content.decode()


def test_the_decision_is_confirmed_first(world, case, client_for, clock):
    clock.move_to(dt.datetime(2026, 9, 18, 9, tzinfo=KST))
    admin = client_for(world.admin)
    url = f"/monitoring/cases/{case.public_id}/decide/"
    step = admin.post(url, {"decision": "approved", "servers": 2, "reason": "Use is 20% of plan"})
    page = step.content.decode()
    assert step.status_code == 200 and 'data-testid="confirm-step"' in page
    assert "2 servers (16 GPUs)" in page and case.project.code in page
    assert ReclamationCase.objects.get(pk=case.pk).decided_at is None
    done = admin.post(url, {"decision": "approved", "servers": 2, "reason": "Use is 20% of plan", "confirmed": "1"})
    assert done.status_code == 302 and ReclamationCase.objects.get(pk=case.pk).decided_servers == 2


def test_running_a_check_is_confirmed_first(world, client_for, clock):
    admin = client_for(world.admin)
    step = admin.post("/monitoring/checks/", {"month": "2026-08"})
    assert step.status_code == 200 and 'data-testid="confirm-step"' in step.content.decode()
    assert "2026-08" in step.content.decode()
    from monitoring.models import CheckRun

    assert not CheckRun.objects.exists()


def case_panel(page: str) -> str:
    """The page's text, tags removed and spaces joined."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_page_says_the_next_step_as_the_cases_state_has_it(world, case, client_for, clock):
    official = client_for(world.official)
    url = f"/monitoring/cases/{case.public_id}/"
    assert 'action="' in official.get(url).content.decode()  # the response form, while it may respond
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="Late data.")
    text = case_panel(official.get(url).content.decode())
    assert "Waiting for the ministry's response" not in text
    assert "The ministry responded on 2026-09-10; MSIT decides next." in text
    korean = case_panel(client_for(world.official, lang="ko").get(url).content.decode())
    assert "부처의 의견 제출을 기다리는 중입니다" not in korean and "부처가 2026-09-10에 소명을 제출했습니다." in korean


def test_after_the_response_window_without_a_response_the_page_says_so(world, case, client_for, clock):
    clock.move_to(case.response_due + dt.timedelta(days=1))
    text = case_panel(client_for(world.official).get(f"/monitoring/cases/{case.public_id}/").content.decode())
    assert "Waiting for the ministry's response" not in text
    assert f"The ministry did not respond by {case.response_due:%Y-%m-%d}; MSIT decides next." in text


def test_the_opened_line_names_what_opened_the_case(world, case, client_for, clock):
    from monitoring.services import report_save
    from tests.monitoring.conftest import values

    client = client_for(world.official)
    assert "· monthly check" in case_panel(client.get(f"/monitoring/cases/{case.public_id}/").content.decode())
    report_save(actor=world.official, project=world.project_a, month=AUG, submit=True,
                values=values(within_purpose=False, notes="Used for another ministry's model."))
    declared = ReclamationCase.objects.get(project=world.project_a, kind="off_purpose")
    text = case_panel(client.get(f"/monitoring/cases/{declared.public_id}/").content.decode())
    assert "monthly check" not in text
    assert "· the project's own declaration in its 2026-08 report" in text
    korean = case_panel(client_for(world.official, lang="ko").get(f"/monitoring/cases/{declared.public_id}/").content.decode())
    assert "· 과제가 2026-08 보고서에서 직접 신고" in korean and "월간 점검" not in korean
    # An off-purpose case may be decided at any time: the page does not tell a reader MSIT waits.
    audited = case_panel(client_for(world.auditor).get(f"/monitoring/cases/{declared.public_id}/").content.decode())
    assert "MSIT may decide at any time" in audited and "MSIT decides after it" not in audited
    opened = reclamation.off_purpose_open(actor=world.admin, project=world.project_b, month=AUG, note="Found in the logs.")
    assert f"· {world.admin}" in case_panel(client_for(world.admin).get(f"/monitoring/cases/{opened.public_id}/")
                                            .content.decode())
