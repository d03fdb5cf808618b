"""The daily reminder job under a frozen clock: 3 days before the due date, on it, then weekly while
overdue (escalating to MSIT admins from the second week); never the same notice twice."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from monitoring.models import Notification
from monitoring.services import report_save
from monitoring.tasks import send_report_reminders
from tests.monitoring.conftest import AUG, KST, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported_until_july(world):
    """Both started projects reported April to July on time, so only August is outstanding."""
    for project, peak in ((world.project_a, 16), (world.project_b, 8)):
        for m in range(4, 8):
            report_save(
                actor=None, project=project, month=dt.date(2026, m, 1), submit=True,
                values=values(peak_gpus_busy=peak, gpu_hours_used=Decimal(100)),
                at=dt.datetime(2026, m + 1, 2, 9, tzinfo=KST),
            )


@pytest.fixture
def run_on(clock, django_capture_on_commit_callbacks):
    """Run the job as beat would on `day` at 09:00 KST, with its after-commit e-mail run."""

    def run(day):
        clock.move_to(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=KST))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return send_report_reminders.delay().get()

    return run


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_three_days_before_the_due_date(world, reported_until_july, clock, run_on):
    counts = run_on(dt.date(2026, 9, 2))
    assert counts["report_due_soon"] == 2  # the official of A and the official of B
    assert kinds(world.official) == ["report_due_soon"]
    notice = Notification.objects.get(user=world.official)
    assert "PA-001" in notice.title and "2026-08" in notice.title
    assert notice.url == "/projects/PA-001/reports/new/?month=2026-08"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.official.email, world.outsider.email])


def test_running_twice_the_same_day_sends_nothing_new(world, reported_until_july, clock, run_on):
    run_on(dt.date(2026, 9, 2))
    first = Notification.objects.count()
    clock.move_to(dt.datetime(2026, 9, 2, 15, 0, tzinfo=KST))
    mail.outbox.clear()
    again = send_report_reminders.delay(today="2026-09-02").get()
    assert sum(again.values()) == 0
    assert Notification.objects.count() == first
    assert mail.outbox == []


def test_due_day_then_weekly_overdue_with_escalation(world, reported_until_july, clock, run_on):
    run_on(dt.date(2026, 9, 5))
    assert kinds(world.official) == ["report_due_today"]
    assert run_on(dt.date(2026, 9, 6)) == {"report_due_soon": 0, "report_due_today": 0, "report_overdue": 0}
    run_on(dt.date(2026, 9, 12))
    assert kinds(world.official) == ["report_due_today", "report_overdue"]
    assert kinds(world.admin) == []  # first overdue week: the ministry only
    assert run_on(dt.date(2026, 9, 13))["report_overdue"] == 0
    run_on(dt.date(2026, 9, 19))
    assert kinds(world.official).count("report_overdue") == 2
    assert kinds(world.admin) == ["report_overdue", "report_overdue"]  # escalated: A and B
    # One e-mail per person per run, listing all their notices.
    admin_mail = [m for m in mail.outbox if m.to == [world.admin.email]]
    assert len(admin_mail) == 1 and "PA-001" in admin_mail[0].body and "PB-001" in admin_mail[0].body


def test_a_submitted_report_stops_the_reminders(world, reported_until_july, clock, run_on):
    clock.move_to(dt.datetime(2026, 9, 1, 9, tzinfo=KST))
    report_save(actor=world.official, project=world.project_a, month=AUG, values=values(), submit=True)
    run_on(dt.date(2026, 9, 2))
    assert kinds(world.official) == []
    assert kinds(world.outsider) == ["report_due_soon"]


def test_notices_show_in_the_portal_with_an_unread_count(world, reported_until_july, clock, client_for, run_on):
    run_on(dt.date(2026, 9, 2))
    client = client_for(world.official)
    page = client.get("/programme/").content.decode()
    assert 'data-testid="unread-count">1<' in page
    notice = Notification.objects.get(user=world.official)
    assert client.post("/notifications/read/", {"id": str(notice.public_id)}).status_code == 302
    assert 'data-testid="unread-count"' not in client.get("/programme/").content.decode()
    assert client.get("/notifications/").status_code == 200


def test_e_mails_are_claimed_once(world, reported_until_july, clock, run_on):
    from allocation_portal.notifications import notification_emails_send

    run_on(dt.date(2026, 9, 2))
    assert notification_emails_send() == 0  # already sent after the reminder run
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
