"""Two deliveries of the same provider's month at once, from separate connections: one after the
other, so exactly one delivery is current and only its figures are stored."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from allocation_portal.models import Role
from metering.models import MeasuredUsage, UsageBatch
from metering.sacct import KST
from metering.services import sacct_receive
from tests import factories as f

from .test_award_race import race

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLE = Path(__file__).resolve().parents[1] / "metering" / "data" / "sacct.txt"


def test_two_deliveries_of_one_month_at_once_leave_one_current():
    cluster = f.make_cluster(servers=12, code="nb200")
    f.award(f.make_project(f.make_ministry(), started=True, gpus=96), list(cluster.servers.all()))
    operator = f.make_user(Role.PROVIDER, provider=cluster.provider)
    full = SAMPLE.read_text(encoding="utf-8")
    corrected = "".join(line for line in full.splitlines(keepends=True) if not line.startswith("40533"))
    now = dt.datetime(2026, 11, 2, 9, tzinfo=KST)

    def attempt(text):
        return lambda: sacct_receive(actor=operator, provider=cluster.provider, file=io.BytesIO(text.encode()),
                                     month=dt.date(2026, 10, 1), now=now)

    results, errors = race([attempt(full), attempt(corrected), attempt(full), attempt(corrected)])
    assert not errors and len(results) == 4
    current = UsageBatch.objects.get(current=True)
    assert set(MeasuredUsage.objects.values_list("batch_id", flat=True)) == {current.pk}
    stored = sum(MeasuredUsage.objects.values_list("gpu_seconds", flat=True))
    assert round(stored) == round(current.gpu_seconds)
