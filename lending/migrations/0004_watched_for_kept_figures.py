from django.db import migrations

from allocation_portal import kept

# The tables whose rows kept figures (outcomes, the status board) are computed from.
TABLES = ["gpus_loan", "gpus_loanrequest", "gpus_organisation"]


class Migration(migrations.Migration):
    dependencies = [("lending", "0003_loan_offers"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
