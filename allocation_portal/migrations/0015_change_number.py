from django.db import migrations

from allocation_portal import kept


class Migration(migrations.Migration):
    dependencies = [("allocation_portal", "0014_policy_measured_use")]

    operations = [
        migrations.RunSQL(kept.CREATE, kept.DROP),
        migrations.RunSQL(kept.watch(["monitoring_reclamationpolicy"]), kept.unwatch(["monitoring_reclamationpolicy"])),
    ]
