"""Cases point at the core's policy model, which keeps this app's old table."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0004_policy_moves_to_the_core'),
        ('monitoring', '0003_alter_notification_kind_checkrun_reclamationpolicy_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='reclamationcase',
                    name='policy',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='allocation_portal.policy', verbose_name='policy'),
                ),
                migrations.DeleteModel(name='ReclamationPolicy'),
            ],
            database_operations=[],
        ),
    ]
