"""Usage plans: a default ramp-up plan on award; officials change future months, MSIT admins any."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from allocation_portal.errors import NotPermitted, ValidationFailed
from allocation_portal.models import AuditEvent
from gpus.selectors import day_start
from projects.models import UsagePlan
from projects.services import project_award_servers, usage_plan_create_default, usage_plan_update
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_award_makes_the_default_plan(world, clock):
    project = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2026, 10, 15), end_date=dt.date(2027, 3, 31))
    project_award_servers(
        actor=world.admin, project=project, cluster=world.cluster, server_count=1, reason="award",
        starts_at=day_start(dt.date(2026, 10, 1)), ends_at=day_start(dt.date(2027, 4, 1)),
    )
    plan = dict(UsagePlan.objects.filter(project=project).values_list("month", "planned_gpu_hours"))
    assert list(plan) == [dt.date(2026, m, 1) for m in (10, 11, 12)] + [dt.date(2027, m, 1) for m in (1, 2, 3)]
    # October: 30% of 8 GPUs x 744 h, for the 17 days from the 15th; November 60%; then 80%.
    assert plan[dt.date(2026, 10, 1)] == (Decimal(8 * 744) * Decimal("0.3") * 17 / 31).quantize(Decimal(1))
    assert plan[dt.date(2026, 11, 1)] == Decimal(8 * 720) * Decimal("0.6")
    assert plan[dt.date(2027, 1, 1)] == (Decimal(8 * 744) * Decimal("0.8")).quantize(Decimal(1))
    assert AuditEvent.objects.filter(action="usage_plan.default", object_id=project.code).exists()
    # A second award does not replace the plan.
    assert usage_plan_create_default(actor=None, project=project) == 0


def test_officials_change_future_months_only(world, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    usage_plan_update(actor=world.official, project=world.project_a, hours_by_month={dt.date(2026, 10, 1): Decimal(5000)})
    assert world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours == 5000
    with pytest.raises(ValidationFailed) as excinfo:
        usage_plan_update(actor=world.official, project=world.project_a, hours_by_month={dt.date(2026, 9, 1): Decimal(1)})
    assert "has begun" in excinfo.value.fields["2026-09"][0]
    with pytest.raises(NotPermitted):
        usage_plan_update(actor=world.outsider, project=world.project_a, hours_by_month={dt.date(2026, 10, 1): Decimal(1)})


def test_admins_change_begun_months_with_a_reason_that_is_audited(world, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    month = {dt.date(2026, 8, 1): Decimal(6000)}
    with pytest.raises(ValidationFailed) as excinfo:
        usage_plan_update(actor=world.admin, project=world.project_a, hours_by_month=month)
    assert "reason" in excinfo.value.fields
    usage_plan_update(actor=world.admin, project=world.project_a, hours_by_month=month, reason="re-baselined")
    event = AuditEvent.objects.get(action="usage_plan.update")
    assert event.after == {"2026-08": "6000.0"} and event.reason == "re-baselined" and event.before["2026-08"]


@pytest.mark.parametrize(
    "month, hours, message",
    [
        (dt.date(2027, 5, 1), Decimal(1), "Outside the project's period"),
        (dt.date(2026, 10, 1), Decimal(-1), "zero or more"),
        (dt.date(2026, 10, 1), Decimal(24 * 31 * 24 + 1), "More than the awarded GPUs"),
    ],
)
def test_plan_values_are_validated(world, clock, month, hours, message):
    with pytest.raises(ValidationFailed) as excinfo:
        usage_plan_update(actor=world.official, project=world.project_a, hours_by_month={month: hours})
    assert message in str(excinfo.value.fields)


def test_the_plan_page(world, client_for, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    client = client_for(world.official)
    page = client.get(f"/projects/{world.project_a.code}/plan/").content.decode()
    assert 'name="m-2026-10"' in page and 'name="m-2026-09"' not in page  # September has begun
    response = client.post(f"/projects/{world.project_a.code}/plan/", {"m-2026-10": "1234", "m-2026-11": "abc"})
    assert response.status_code == 400 and "Enter a number" in response.content.decode()
    assert client.post(f"/projects/{world.project_a.code}/plan/", {"m-2026-10": "1234"}).status_code == 302
    assert world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours == 1234
    auditor = client_for(world.auditor)
    assert 'name="m-2026-10"' not in auditor.get(f"/projects/{world.project_a.code}/plan/").content.decode()
    assert auditor.post(f"/projects/{world.project_a.code}/plan/", {"m-2026-10": "1"}).status_code == 403


def test_the_plan_api(world, api_for, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    api = api_for(world.official)
    rows = api.get(f"/api/v1/projects/{world.project_a.code}/plan/").json()
    assert rows[0]["month"] == "2026-04-01"
    response = api.put(
        f"/api/v1/projects/{world.project_a.code}/plan/",
        [{"month": "2026-12-01", "planned_gpu_hours": "4000"}], format="json",
    )
    assert response.status_code == 200
    locked = api.put(
        f"/api/v1/projects/{world.project_a.code}/plan/", [{"month": "2026-08-01", "planned_gpu_hours": "1"}],
        format="json",
    )
    assert locked.status_code == 400 and "2026-08" in locked.json()["error"]["fields"]
    assert api_for(world.auditor).put(f"/api/v1/projects/{world.project_a.code}/plan/", [], format="json").status_code == 403


def test_the_plan_page_writes_hours_with_separators_and_reads_them_back(world, client_for, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    UsagePlan.objects.filter(project=world.project_a, month=dt.date(2026, 10, 1)).update(planned_gpu_hours=Decimal("12648"))
    client = client_for(world.official)
    page = client.get(f"/projects/{world.project_a.code}/plan/").content.decode()
    assert 'value="12,648.0"' in page and "12648" not in page
    values = dict(re.findall(r'name="(m-[0-9-]+)" value="([^"]*)"', page))
    # Sent back as shown, the plan does not change (no month is "updated" by its own separators).
    response = client.post(f"/projects/{world.project_a.code}/plan/", values, follow=True)
    assert response.status_code == 200 and "0 months of the plan were updated" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="plan").exists()
    client.post(f"/projects/{world.project_a.code}/plan/", {**values, "m-2026-10": "12,345.5"})
    assert world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours == Decimal("12345.5")


def plan_rows(page: str) -> dict[str, str]:
    """Each month's row of the plan table as its text (value or input, and errors)."""
    import html

    body = page[page.index("<tbody>"):page.index("</tbody>")]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        month = re.search(r"<td>(\d{4}-\d{2})</td>", row).group(1)
        value = re.search(r'value="([^"]*)"', row)
        text = html.unescape(re.sub(r"<[^>]+>", " ", row))
        rows[month] = (f"[{value.group(1)}] " if value else "") + " ".join(text.split())
    return rows


def test_the_plan_page_shows_every_months_error_at_once_and_keeps_the_locked_months(world, client_for, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    UsagePlan.objects.filter(project=world.project_a, month=dt.date(2026, 8, 1)).update(planned_gpu_hours=Decimal("14285.5"))
    client = client_for(world.official)
    url = f"/projects/{world.project_a.code}/plan/"
    before = plan_rows(client.get(url).content.decode())
    response = client.post(url, {"m-2026-10": "abc", "m-2026-11": "-1", "m-2026-12": "99999", "m-2027-01": "1,000"})
    assert response.status_code == 400
    after = plan_rows(response.content.decode())
    assert "Enter a number of GPU-hours." in after["2026-10"]
    assert "Enter zero or more GPU-hours." in after["2026-11"]
    # 24 GPUs x 744 hours in December, written as every GPU-hours figure is.
    assert "More than the awarded GPUs can give in this month (17,856.0 GPU-hours)." in after["2026-12"]
    assert "[1,000]" in after["2027-01"]  # what was typed stays in the field
    # The locked months (April to September) show their values, as before the error.
    assert after["2026-08"].startswith("2026-08 14,285.5")
    for month in ("2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"):
        assert after[month] == before[month] and "–" not in after[month].split()[1]
    assert not world.project_a.plans.filter(month=dt.date(2027, 1, 1), planned_gpu_hours=1000).exists()


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-0x1"])
def test_a_plan_value_that_is_not_a_finite_number_is_an_error(world, client_for, clock, value):
    usage_plan_create_default(actor=None, project=world.project_a)
    response = client_for(world.official).post(f"/projects/{world.project_a.code}/plan/", {"m-2026-10": value})
    assert response.status_code == 400 and "Enter a number of GPU-hours." in plan_rows(response.content.decode())["2026-10"]


def test_a_cleared_month_of_the_plan_must_be_given_a_number(world, client_for, clock):
    """A planner who empties a month means to change it, but an empty plan is not a figure:
    it is refused, saying that none is 0 (a month that had no plan may stay empty)."""
    usage_plan_create_default(actor=None, project=world.project_a)
    world.project_a.plans.filter(month=dt.date(2027, 3, 1)).delete()
    planned = world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours
    client = client_for(world.official)
    url = f"/projects/{world.project_a.code}/plan/"
    response = client.post(url, {"m-2026-10": "", "m-2027-03": ""})
    assert response.status_code == 400
    rows = plan_rows(response.content.decode())
    assert "Enter a number of GPU-hours (0 for none)." in rows["2026-10"]
    assert "Enter" not in rows["2027-03"]
    assert world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours == planned
    assert client.post(url, {"m-2026-10": "0", "m-2027-03": ""}).status_code == 302
    assert world.project_a.plans.get(month=dt.date(2026, 10, 1)).planned_gpu_hours == 0
    assert not world.project_a.plans.filter(month=dt.date(2027, 3, 1)).exists()


def test_an_admins_change_of_a_begun_month_asks_for_the_reason_beside_its_field(world, client_for, clock):
    usage_plan_create_default(actor=None, project=world.project_a)
    admin = client_for(world.admin)
    url = f"/projects/{world.project_a.code}/plan/"
    response = admin.post(url, {"m-2026-08": "6000", "m-2026-10": "-1", "reason": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="reason-errors"' in page and 'id="reason-errors"' in page
    assert "Enter zero or more GPU-hours." in plan_rows(page)["2026-10"]  # with the reason's error, at once
    assert admin.post(url, {"m-2026-08": "6000", "reason": "re-baselined"}).status_code == 302
    assert world.project_a.plans.get(month=dt.date(2026, 8, 1)).planned_gpu_hours == 6000
