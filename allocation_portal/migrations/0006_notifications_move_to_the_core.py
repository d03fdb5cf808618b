"""Notices move to the core (every app notifies); their table stays where it is."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

KINDS = [('report_due_soon', 'Report due in 3 days'), ('report_due_today', 'Report due today'), ('report_overdue', 'Report overdue'), ('report_returned', 'Report returned'), ('case_opened', 'Reclamation case opened'), ('case_responded', 'Case response'), ('case_decided', 'Case decided'), ('case_updated', 'Case evidence updated'), ('project_delayed', 'Project start delayed'), ('proposals_ready', 'Redistribution proposals'), ('request_decided', 'Request decided'), ('request_changes', 'Changes requested'), ('loan_started', 'Loan started'), ('loan_ending', 'Loan ending soon'), ('loan_ended', 'Loan ended'), ('loan_recalled', 'Loan recalled'), ('loan_renewal', 'Renewal'), ('general', 'Notice')]


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0005_policy_numbers'),
        ('monitoring', '0004_policy_moves_to_the_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('kind', models.CharField(choices=KINDS, max_length=30, verbose_name='kind')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('body', models.TextField(verbose_name='message')),
                        ('url', models.CharField(blank=True, max_length=300, verbose_name='link')),
                        ('dedup_key', models.CharField(max_length=200)),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read')),
                        ('emailed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mailed')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'monitoring_notification',
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['user', 'read_at'], name='notification_unread_idx')],
                        'constraints': [models.UniqueConstraint(fields=('user', 'dedup_key'), name='notification_once_per_user')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
