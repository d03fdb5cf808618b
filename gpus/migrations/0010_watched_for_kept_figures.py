from django.db import migrations

from allocation_portal import kept

# The tables whose rows kept figures (outcomes, the status board) are computed from.
TABLES = ["gpus_allocationgpu", "gpus_allocation", "gpus_server", "gpus_cluster", "gpus_pool"]


class Migration(migrations.Migration):
    dependencies = [("gpus", "0009_provider_prometheus"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
