"""The programme policy moves to the core (every app reads it); its table stays where it is."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0003_audit_append_only'),
        ('monitoring', '0003_alter_notification_kind_checkrun_reclamationpolicy_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Policy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('version', models.PositiveIntegerField(unique=True, verbose_name='version')),
                        ('grace_months', models.PositiveSmallIntegerField(default=2, verbose_name='grace months after the start')),
                        ('tier1_below', models.DecimalField(decimal_places=3, default=Decimal('0.30'), max_digits=4, verbose_name='tier 1: cumulative use of plan below')),
                        ('tier1_share', models.DecimalField(decimal_places=3, default=Decimal('0.50'), max_digits=4, verbose_name='tier 1: share of the unused servers reclaimed')),
                        ('tier2_below', models.DecimalField(decimal_places=3, default=Decimal('0.60'), max_digits=4, verbose_name='tier 2: cumulative use of plan below')),
                        ('tier2_share', models.DecimalField(decimal_places=3, default=Decimal('0.25'), max_digits=4, verbose_name='tier 2: share of the unused servers reclaimed')),
                        ('response_days', models.PositiveSmallIntegerField(default=7, verbose_name='days to respond')),
                        ('rounding', models.CharField(choices=[('down', 'Round down to whole servers'), ('nearest', 'Round to the nearest whole server')], default='down', max_length=10, verbose_name='rounding')),
                        ('floor_servers', models.PositiveSmallIntegerField(default=1, verbose_name='servers a project always keeps')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('reason', models.TextField(blank=True, verbose_name='reason')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'monitoring_reclamationpolicy',
                        'verbose_name': 'programme policy',
                        'verbose_name_plural': 'programme policies',
                        'ordering': ['-version'],
                        'constraints': [
                            models.CheckConstraint(condition=models.Q(('tier1_below__lte', models.F('tier2_below'))), name='policy_tiers_ordered'),
                            models.CheckConstraint(condition=models.Q(('tier1_below__gte', 0), ('tier1_below__lte', 1), ('tier1_share__gte', 0), ('tier1_share__lte', 1)), name='policy_tier1_range'),
                            models.CheckConstraint(condition=models.Q(('tier2_below__gte', 0), ('tier2_below__lte', 1), ('tier2_share__gte', 0), ('tier2_share__lte', 1)), name='policy_tier2_range'),
                            models.CheckConstraint(condition=models.Q(('response_days__gte', 1)), name='policy_response_days'),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
