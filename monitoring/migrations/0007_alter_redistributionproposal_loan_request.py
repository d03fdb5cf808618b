"""The organisation and request models moved to the lending app (same tables): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0001_initial'),
        ('monitoring', '0006_check_runs_resume_and_resolved_cases'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='redistributionproposal',
                    name='loan_request',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='proposals', to='lending.loanrequest'),
                ),
            ],
            database_operations=[],
        ),
    ]
