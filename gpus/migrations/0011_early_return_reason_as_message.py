"""An early return's ledger reason was written in the returning person's language ("조기 반납."):
it becomes the message it is now stored as, so each reader sees it in theirs."""

from django.db import migrations

MESSAGE = {"m": "Returned early.", "p": {}}


def forward(apps, schema_editor):
    allocation = apps.get_model("gpus", "Allocation")
    allocation.objects.filter(release_reason__in=("조기 반납.", "Returned early."),
                              release_reason_msg__isnull=True).update(release_reason="조기 반납.",
                                                                      release_reason_msg=MESSAGE)


class Migration(migrations.Migration):
    dependencies = [("gpus", "0010_watched_for_kept_figures")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
