from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from allocation_portal.demo import DEMO_PASSWORD, load_demo_users


class Command(BaseCommand):
    help = "Create one demo account per role and demo activity. Refused unless DEBUG is on or --force is given."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have published passwords: refused with DEBUG off (use --force to override).")
        users = load_demo_users()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for user in users:
            scope = user.ministry or user.organisation or ""
            self.stdout.write(f"  {user.username:<10} {user.get_role_display():<20} {scope}")
