from django.db import migrations

from allocation_portal import kept

# The tables whose rows kept figures (outcomes, the status board) are computed from.
TABLES = ["monitoring_usagereport", "monitoring_reclamationcase"]


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0007_alter_redistributionproposal_loan_request"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
