import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from benchmarks.scale_data import Params, generate
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Fill the database with national-scale sample data (50,000 GPUs, 500 projects, 36 months, 5,000 requests) "
        "for benchmarks. Reproducible from --seed. Needs an empty database (--reset empties it)."
    )

    def add_arguments(self, parser):
        defaults = Params()
        parser.add_argument("--gpus", type=int, default=defaults.gpus)
        parser.add_argument("--projects", type=int, default=defaults.projects)
        parser.add_argument("--ministries", type=int, default=defaults.ministries)
        parser.add_argument("--months", type=int, default=defaults.months)
        parser.add_argument("--requests", type=int, default=defaults.requests)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--reset", action="store_true", help="Empty the database first (all data is lost).")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Scale data is for benchmark databases: refused with DEBUG off (use --force).")
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        elif Project.objects.exists():
            raise CommandError("The database is not empty: use --reset on a benchmark database.")
        started = time.monotonic()
        params = Params(**{k: options[k] for k in ("gpus", "projects", "ministries", "months", "requests", "seed")})
        counts = generate(params, log=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(f"Scale data written in {time.monotonic() - started:.1f} s: {counts}"))
