"""Every default number of the rules is policy data; version 1 is saved (audited) here, so that
no page has to write it when it is first read."""

from decimal import Decimal

from django.db import migrations, models

FIELDS = [
    "grace_days", "tier1_below", "tier1_share", "tier2_below", "tier2_share", "response_days", "rounding",
    "floor_servers", "report_due_day", "under_plan_below", "delay_flag_days", "start_backdate_days",
    "loan_max_months", "loan_renewals", "recall_notice_hours",
]


def first_version(apps, schema_editor):
    from django.utils import timezone

    Policy = apps.get_model("allocation_portal", "Policy")
    AuditEvent = apps.get_model("allocation_portal", "AuditEvent")
    if Policy.objects.exists():
        return
    policy = Policy.objects.create(version=1, reason="Programme defaults (DOMAIN.md).")
    AuditEvent.objects.create(
        at=timezone.now(), actor=None, actor_name="system", actor_role="system", action="policy.create",
        object_type="allocation_portal.policy", object_id=str(policy.pk), object_repr="v1",
        after={name: str(getattr(policy, name)) if isinstance(getattr(policy, name), Decimal) else getattr(policy, name)
               for name in FIELDS},
        reason=policy.reason,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0004_policy_moves_to_the_core'),
        ('monitoring', '0004_policy_moves_to_the_core'),
    ]

    operations = [
        migrations.RemoveField(model_name='policy', name='grace_months'),
        migrations.AddField(model_name='policy', name='grace_days', field=models.PositiveSmallIntegerField(default=60, help_text="No month is checked that ends before this many days after the project's actual start.", verbose_name='grace days after the actual start')),
        migrations.AddField(model_name='policy', name='report_due_day', field=models.PositiveSmallIntegerField(default=5, verbose_name='reports due on this day of the next month')),
        migrations.AddField(model_name='policy', name='under_plan_below', field=models.DecimalField(decimal_places=3, default=Decimal('0.60'), max_digits=4, verbose_name='flag as under plan below this share of the cumulative plan')),
        migrations.AddField(model_name='policy', name='delay_flag_days', field=models.PositiveSmallIntegerField(default=30, verbose_name='flag a project not started this many days after its planned start')),
        migrations.AddField(model_name='policy', name='start_backdate_days', field=models.PositiveSmallIntegerField(default=14, verbose_name='a start can be recorded up to this many days back')),
        migrations.AddField(model_name='policy', name='loan_max_months', field=models.PositiveSmallIntegerField(default=3, verbose_name='longest loan (months)')),
        migrations.AddField(model_name='policy', name='loan_renewals', field=models.PositiveSmallIntegerField(default=1, verbose_name='renewals per loan')),
        migrations.AddField(model_name='policy', name='recall_notice_hours', field=models.PositiveSmallIntegerField(default=72, verbose_name='recall notice (hours)')),
        migrations.AddConstraint(model_name='policy', constraint=models.CheckConstraint(condition=models.Q(('report_due_day__gte', 1), ('report_due_day__lte', 28)), name='policy_due_day')),
        migrations.AddConstraint(model_name='policy', constraint=models.CheckConstraint(condition=models.Q(('under_plan_below__gte', 0), ('under_plan_below__lte', 1)), name='policy_under_plan_range')),
        migrations.AddConstraint(model_name='policy', constraint=models.CheckConstraint(condition=models.Q(('loan_max_months__gte', 1), ('loan_max_months__lte', 12)), name='policy_loan_months')),
        migrations.RunPython(first_version, migrations.RunPython.noop),
    ]
