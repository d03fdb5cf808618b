import datetime as dt
from decimal import Decimal

from monitoring.models import Compliance
from tests.conftest import KST  # noqa: F401 - shared by these tests


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
