"""The lending models now belong to the lending app (their tables stay): the ledger's loan holder
points there, and the gpus app forgets them. State only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0008_alter_user_organisation'),
        ('gpus', '0005_loan_renewals'),
        ('lending', '0001_initial'),
        ('monitoring', '0007_alter_redistributionproposal_loan_request'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='loan',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='loan',
                    name='request',
                ),
                migrations.AlterField(
                    model_name='allocation',
                    name='loan',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='lending.loan', verbose_name='loan'),
                ),
                migrations.RemoveField(
                    model_name='loanrequest',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='loanrequest',
                    name='pool',
                ),
                migrations.RemoveField(
                    model_name='loanrequest',
                    name='reviewed_by',
                ),
                migrations.RemoveField(
                    model_name='loanrequest',
                    name='submitted_by',
                ),
                migrations.DeleteModel(
                    name='Loan',
                ),
                migrations.DeleteModel(
                    name='Organisation',
                ),
                migrations.DeleteModel(
                    name='LoanRequest',
                ),
            ],
            database_operations=[],
        ),
    ]
