"""manage.py import_usage --provider CODE --format sacct FILE [--month YYYY-MM]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from allocation_portal import dates
from allocation_portal.errors import PortalError
from gpus.models import Provider
from metering.services import sacct_receive


class Command(BaseCommand):
    help = "Receive a provider's measured usage from a file (Slurm sacct --parsable2 output)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--provider", required=True, help="the provider's code")
        parser.add_argument("--format", choices=["sacct"], default="sacct")
        parser.add_argument("--month", help="YYYY-MM (KST); default: the last month that has ended")

    def handle(self, *args, file, provider, month=None, **options):
        try:
            chosen = Provider.objects.get(code=provider)
        except Provider.DoesNotExist:
            raise CommandError(f"No provider with the code {provider!r}.") from None
        try:
            month_value = dates.parse_month(month) if month else None
        except dates.DateInvalid as exc:
            raise CommandError(str(exc.message)) from None
        try:
            with open(file, "rb") as handle:
                received = sacct_receive(actor=None, provider=chosen, file=handle, file_name=file, month=month_value,
                                         check_permission=False)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except PortalError as exc:
            raise CommandError(str(exc)) from None
        batch = received.batch
        state = "received" if received.changed else "unchanged (the same figures were received already)"
        self.stdout.write(
            f"{chosen.code} {batch.period_start:%Y-%m}: {batch.runs} job runs, {batch.gpu_seconds / 3600:.2f} GPU-hours, "
            f"{batch.provisional} still running; {state}."
        )
        for kind, seconds in sorted(received.by_holder.items()):
            self.stdout.write(f"  {kind}: {seconds / 3600:.2f} GPU-hours")
        for node in batch.unknown_nodes:
            self.stdout.write(f"  not in the inventory: {node['node']} ({node['gpu_seconds'] / 3600:.2f} GPU-hours)")
