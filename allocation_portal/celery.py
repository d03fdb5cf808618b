import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allocation_portal.settings")

app = Celery("allocation_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_to_start_without_a_secret_key(**_kwargs):
    from allocation_portal.startup import require_secret_key

    require_secret_key()
