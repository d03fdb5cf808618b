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
