"""The monthly check counts reported use, measured use, or the lower of the two, as the policy says,
and flags a report that differs from the measured use."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from allocation_portal.policy import policy_update
from metering.services import sacct_receive
from monitoring import reclamation
from monitoring.models import ReclamationCase
from tests.monitoring.conftest import AUG
from tests.monitoring.test_monthly_check import policy_values

pytestmark = pytest.mark.django_db


def measured_months(world, project, share_of_plan: Decimal):
    """Slurm accounting from the project's provider for April to August: one job a month on all its
    servers, `share_of_plan` of the month's plan."""
    cluster = project.allocations.first().cluster
    servers = cluster.servers.count()
    plan_hours = Decimal(servers * 8 * 24 * 30) / 2
    hours = int(plan_hours * share_of_plan / (servers * 8))
    for month in (4, 5, 6, 7, 8):
        start = dt.datetime(2026, month, 10)
        end = start + dt.timedelta(hours=hours)
        line = (f"{month}|{month}|c|acct|u|COMPLETED|{start:%Y-%m-%dT%H:%M:%S}|{start:%Y-%m-%dT%H:%M:%S}|"
                f"{end:%Y-%m-%dT%H:%M:%S}|{hours * 3600}|gres/gpu={servers * 8}|{cluster.code}-[001-{servers:03d}]\n")
        sacct_receive(actor=world.admin, provider=cluster.provider, file=io.BytesIO(line.encode()),
                      month=dt.date(2026, month, 1))


@pytest.mark.parametrize("basis, opens", [("reported", False), ("measured", True), ("lower", True)])
def test_the_policy_chooses_the_use_the_check_counts(world, started, clock, client_for, basis, opens):
    project = started("C-MEAS", used_share=Decimal("0.9"))  # reports 90% of plan
    measured_months(world, project, Decimal("0.1"))  # the scheduler saw 10%
    policy_update(actor=world.admin, reason="test", values={**policy_values(), "check_basis": basis})
    reclamation.monthly_check_run(month=AUG)
    case = ReclamationCase.objects.filter(project=project).first()
    assert (case is not None) == opens
    if case:
        august = case.evidence["months"][-1]
        assert case.evidence["basis"] == basis and august["counted_from"] == "sacct"
        assert august["differs_from_measured"] and Decimal(august["measured"]) < Decimal(august["reported"])
        assert august["scheduled"] == august["measured"] and august["busy"] is None
        assert Decimal(case.evidence["ratio"]) == Decimal("0.1000")
        page = client_for(world.admin, "ko").get(f"/monitoring/cases/{case.public_id}/").content.decode()
        assert "Slurm 회계 기록" in page and 'data-testid="differs"' in page


def test_the_lower_of_the_two_keeps_a_report_below_the_measured_use(world, started, clock):
    project = started("C-LOW", used_share=Decimal("0.2"))  # reports 20%
    measured_months(world, project, Decimal("0.8"))  # measured 80%: the report is lower, and counted
    policy_update(actor=world.admin, reason="test", values={**policy_values(), "check_basis": "lower"})
    reclamation.monthly_check_run(month=AUG)
    case = ReclamationCase.objects.get(project=project)
    assert case.evidence["months"][-1]["counted_from"] == "reported"
    assert Decimal(case.evidence["ratio"]) == Decimal("0.2000")


def test_a_wrong_basis_is_refused(world):
    from allocation_portal.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as failed:
        policy_update(actor=world.admin, reason="test", values={**policy_values(), "check_basis": "guess"})
    assert "check_basis" in failed.value.fields
