import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from monitoring.models import Compliance

KST = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clock():
    """Freeze the portal's clock at 2026-09-10 10:00 KST (move it with clock.move_to)."""
    with time_machine.travel(dt.datetime(2026, 9, 10, 10, 0, tzinfo=KST), tick=False) as traveller:
        yield traveller


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
