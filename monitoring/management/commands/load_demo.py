import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    load_demo_lending,
    load_demo_lending_history,
    load_demo_reclamation,
    load_demo_reports,
    load_demo_review,
    load_demo_users,
)
from monitoring.services import report_reminders_send


class Command(BaseCommand):
    help = "Create one demo account per role and demo activity. Refused unless DEBUG is on or --force is given."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have published passwords: refused with DEBUG off (use --force to override).")
        users = load_demo_users()
        reports = load_demo_reports()
        lending = load_demo_lending()
        history = load_demo_lending_history()
        lending_reviews = load_demo_review()
        # Replay the daily reminder job over the last three weeks, as beat would have run it.
        today = timezone.localdate()
        reminders = sum(
            sum(report_reminders_send(today=today - dt.timedelta(days=back)).values()) for back in range(21, -1, -1)
        )
        reclaim = load_demo_reclamation()
        self.stdout.write(f"Demo reports created: {reports}; lending requests: {lending} (and {history} before today); "
                          f"review assignments: {lending_reviews}; reminder notices: {reminders}.")
        self.stdout.write(f"Reclamation: {reclaim}.")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for user in users:
            scope = user.ministry or user.organisation or ""
            self.stdout.write(f"  {user.username:<10} {user.get_role_display():<20} {scope}")
        self.stdout.write(f"The demo admin's second factor (demo only): add the secret {DEMO_TOTP_SECRET} to an "
                          f"authenticator app (time-based, 6 digits), or run `oathtool --totp -b {DEMO_TOTP_SECRET}`.")
