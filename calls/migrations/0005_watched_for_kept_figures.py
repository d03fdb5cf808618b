from django.db import migrations

from allocation_portal import kept

# The tables the programme overview's selection (calls.selectors.kept_call_selection) is computed from.
TABLES = ["calls_call", "calls_criterion", "calls_stage", "calls_proposal"]


class Migration(migrations.Migration):
    dependencies = [("calls", "0004_selection_record"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
