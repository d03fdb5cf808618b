"""manage.py pull_usage --provider CODE --prometheus URL --from DATE --to DATE [--step SECONDS]"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from allocation_portal.errors import PortalError
from gpus.models import Provider
from metering.services import telemetry_pull


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Pull a provider's GPU telemetry (DCGM exporter metrics) from its Prometheus, one KST day at a time."

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, help="the provider's code")
        parser.add_argument("--prometheus", help="the Prometheus address (default: the provider's)")
        parser.add_argument("--from", dest="first", required=True, help="the first day, YYYY-MM-DD (KST)")
        parser.add_argument("--to", dest="last", required=True, help="the last day, YYYY-MM-DD (KST), inclusive")
        parser.add_argument("--step", type=int, default=3600, help="seconds per point (default: an hour)")

    def handle(self, *args, provider, prometheus=None, first, last, step, **options):
        try:
            chosen = Provider.objects.get(code=provider)
        except Provider.DoesNotExist:
            raise CommandError(f"No provider with the code {provider!r}.") from None
        try:
            received = telemetry_pull(actor=None, provider=chosen, url=prometheus, first_day=_day(first),
                                      last_day=_day(last), step_s=step, check_permission=False)
        except PortalError as exc:
            raise CommandError(str(exc)) from None
        for r in received:
            batch = r.batch
            covered = sum(batch.details.get("covered_gpu_seconds_by_metric", {}).values()) / 3600
            self.stdout.write(
                f"{chosen.code} {batch.period_start:%Y-%m-%d}: {batch.gpu_seconds / 3600:.2f} busy GPU-hours, "
                f"{covered:.2f} GPU-hours with data; {'received' if r.changed else 'unchanged'}."
            )
