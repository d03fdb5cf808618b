import datetime as dt
from decimal import Decimal

import pytest

from monitoring.models import Compliance
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.conftest import KST


def values(**overrides):
    base = {
        "gpu_hours_used": Decimal("9000"),
        "peak_gpus_busy": 16,
        "within_purpose": True,
        "ai_basic_act": Compliance.YES,
        "personal_information": Compliance.NOT_APPLICABLE,
        "training_data_copyright": Compliance.YES,
        "notes": "",
    }
    base.update(overrides)
    return base


AUG = dt.date(2026, 8, 1)
AUG_HOURS = Decimal(31 * 24 * 16)  # project A holds 2 servers (16 GPUs) all August


@pytest.fixture
def started(world):
    """started(code, servers, used_share, start) -> a project planned at 50% of its GPU-hours from
    `start`, reporting `used_share` of its plan every month to August (None: no reports)."""

    def make(code, servers=10, used_share=Decimal("1"), start=dt.date(2026, 4, 1)):
        project = f.make_project(world.ministry_a, started=True, code=code, gpus=servers * 8, planned_start=start)
        f.award(project, f.make_cluster(servers=servers).servers.all(), start=start)
        month = start.replace(day=1)
        while month <= AUG:
            plan = Decimal(servers * 8 * 24 * 30) / 2
            UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=plan)
            if used_share is not None:
                report_save(actor=None, project=project, month=month, submit=True,
                            values=values(gpu_hours_used=plan * used_share, peak_gpus_busy=servers * 8),
                            at=dt.datetime(month.year, month.month + 1, 3, 9, tzinfo=KST))
            month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        return project

    return make
