from django.core.management.base import BaseCommand

from calls.selection_2026 import selection_2026_load


class Command(BaseCommand):
    help = ("Load the 2026 national AI projects' selection as a record (the call, its criteria and stages, 121 "
            "proposals from 28 ministries, the 52 selected linked to their projects), after the programme. Idempotent.")

    def handle(self, *args, **options):
        result = selection_2026_load()
        self.stdout.write(self.style.SUCCESS(
            "Selection 2026: {proposals} proposals from {ministries} ministries, {selected} selected, "
            "{gpus_awarded} GPUs awarded; {changed} changes.".format(**result)))
