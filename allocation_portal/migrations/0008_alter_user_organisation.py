"""The organisation and request models moved to the lending app (same tables): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0007_audit_no_truncate'),
        ('lending', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='user',
                    name='organisation',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='members', to='lending.organisation', verbose_name='organisation'),
                ),
            ],
            database_operations=[],
        ),
    ]
