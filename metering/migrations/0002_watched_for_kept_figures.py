from django.db import migrations

from allocation_portal import kept

# The tables whose rows kept figures (outcomes, the status board) are computed from.
TABLES = ["metering_usagebatch"]


class Migration(migrations.Migration):
    dependencies = [("metering", "0001_measured_usage"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
