from django.core.management.base import BaseCommand

from outcomes import store


class Command(BaseCommand):
    help = ("Compute the programme's outcome figures of every ended month again and keep them "
            "(the daily job keeps only the missing and out-of-date ones).")

    def handle(self, *args, **options):
        self.stdout.write(f"Months kept: {store.rebuild()}")
