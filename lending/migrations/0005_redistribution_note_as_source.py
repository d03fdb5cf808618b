"""A request approved through redistribution kept its note in the approving admin's language
("재배분으로 승인."): it becomes the source string it is now stored as, read in each reader's language."""

from django.db import migrations


def forward(apps, schema_editor):
    apps.get_model("lending", "LoanRequest").objects.filter(review_note="재배분으로 승인.").update(
        review_note="Approved through redistribution.")


class Migration(migrations.Migration):
    dependencies = [("lending", "0004_watched_for_kept_figures")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
