from django.core.management.base import BaseCommand

from projects.loader import programme_2026_load


class Command(BaseCommand):
    help = "Load the 2026 national AI programme (52 projects, 25 ministries, 2,832 B200) and the inventory. Idempotent."

    def handle(self, *args, **options):
        result = programme_2026_load()
        self.stdout.write(
            self.style.SUCCESS(
                "Programme 2026: {ministries} ministries, {projects} projects, {gpus_awarded} GPUs awarded; "
                "inventory {servers} servers / {gpus} GPUs; {changed} changes.".format(**result)
            )
        )
