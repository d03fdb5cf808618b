"""A provider's operator logs in, lands on their measured-use page, sends a month of Slurm accounting
from it and sees the delivery; MSIT then sees the measured use beside the report on the board."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocation_portal.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLE = Path(__file__).resolve().parents[1] / "metering" / "data" / "sacct.txt"


def test_an_operator_sends_a_month_and_msit_sees_it_on_the_board(page, login, tmp_path):
    cluster = f.make_cluster(servers=11, code="nb200")
    project = f.make_project(f.make_ministry(), started=True, code="P-ON", gpus=32)
    f.award(project, list(cluster.servers.order_by("hostname"))[0:4])
    f.make_user(Role.PROVIDER, username="nhn.ops", provider=cluster.provider)
    f.make_user(Role.ADMIN, username="msit.admin")

    login("nhn.ops", f.PASSWORD)
    assert page.url.endswith("/metering/")
    assert page.locator("nav.main-nav >> text=사업 현황").count() == 0  # nothing else of the programme
    page.set_input_files("#id_file", str(SAMPLE))
    page.fill("#id_month", "2026-10")
    page.click("[data-testid=sacct-form] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "6,692.2" in page.locator("[data-testid=batches]").inner_text()
    assert "2026-10" in page.locator(".msg-success").inner_text()

    page.context.clear_cookies()
    login("msit.admin", f.PASSWORD)
    page.goto("/monitoring/board/?month=2026-10")
    row = page.locator("tr[data-project='P-ON']")
    assert "5,458.0" in row.inner_text() and "Slurm" in row.inner_text()
