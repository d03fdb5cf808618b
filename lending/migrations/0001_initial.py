"""Short-term lending gets its own app. The models and their tables stay as they were in the gpus
app (state only: no table is created, renamed or copied); their content types follow them."""

import django.db.models.deletion
import django.db.models.functions.math
import django.db.models.lookups
import uuid
from django.conf import settings
from django.db import migrations, models


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="gpus", model__in=["organisation", "loanrequest", "loan"]).update(app_label="lending")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('gpus', '0005_loan_renewals'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Organisation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('name', models.CharField(max_length=150, verbose_name='name')),
                        ('kind', models.CharField(choices=[('industry', 'Industry'), ('academia', 'Academia'), ('research', 'Research institute')], max_length=20, verbose_name='type')),
                        ('region', models.CharField(choices=[('capital', 'Capital region'), ('non_capital', 'Outside the capital region')], max_length=20, verbose_name='region')),
                        ('registration_number', models.CharField(max_length=30, unique=True, verbose_name='registration number')),
                        ('is_sample', models.BooleanField(default=False, verbose_name='sample data')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'verbose_name': 'organisation',
                        'verbose_name_plural': 'organisations',
                        'db_table': 'gpus_organisation',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='LoanRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('gpu_model', models.CharField(choices=[('B200', 'NVIDIA B200'), ('H200', 'NVIDIA H200')], max_length=10, verbose_name='GPU model')),
                        ('gpu_count', models.PositiveIntegerField(verbose_name='GPUs')),
                        ('starts_on', models.DateField(verbose_name='from')),
                        ('ends_on', models.DateField(verbose_name='until (inclusive)')),
                        ('purpose', models.TextField(verbose_name='purpose')),
                        ('expected_results', models.TextField(verbose_name='expected results')),
                        ('personal_information', models.CharField(choices=[('yes', 'Yes, complied'), ('no', 'No'), ('na', 'Not applicable')], max_length=4, verbose_name='personal information')),
                        ('training_data_copyright', models.CharField(choices=[('yes', 'Yes, complied'), ('no', 'No'), ('na', 'Not applicable')], max_length=4, verbose_name='training data copyright')),
                        ('ai_basic_act', models.CharField(choices=[('yes', 'Yes, complied'), ('no', 'No'), ('na', 'Not applicable')], max_length=4, verbose_name='AI Basic Act')),
                        ('accepts_recall_terms', models.BooleanField(default=False, verbose_name='accepts the recall terms')),
                        ('state', models.CharField(choices=[('submitted', 'Submitted'), ('changes_requested', 'Changes requested'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('withdrawn', 'Withdrawn')], default='submitted', max_length=20, verbose_name='state')),
                        ('score', models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True, verbose_name='criteria score')),
                        ('review_note', models.TextField(blank=True, verbose_name='review note')),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='reviewed at')),
                        ('submitted_at', models.DateTimeField(verbose_name='submitted at')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('pool', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='gpus.pool', verbose_name='pool')),
                        ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('submitted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='lending.organisation', verbose_name='organisation')),
                    ],
                    options={
                        'verbose_name': 'short-term request',
                        'verbose_name_plural': 'short-term requests',
                        'db_table': 'gpus_loanrequest',
                        'ordering': ['-submitted_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Loan',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('gpu_model', models.CharField(choices=[('B200', 'NVIDIA B200'), ('H200', 'NVIDIA H200')], max_length=10, verbose_name='GPU model')),
                        ('gpu_count', models.PositiveIntegerField(verbose_name='GPUs')),
                        ('starts_at', models.DateTimeField(verbose_name='from')),
                        ('ends_at', models.DateTimeField(verbose_name='until')),
                        ('state', models.CharField(choices=[('scheduled', 'Scheduled'), ('active', 'Active'), ('ended', 'Ended')], default='scheduled', max_length=20, verbose_name='state')),
                        ('end_reason', models.CharField(blank=True, choices=[('completed', 'Completed'), ('returned', 'Returned early'), ('recalled', 'Recalled')], max_length=20, verbose_name='how it ended')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended at')),
                        ('recall_notice_at', models.DateTimeField(blank=True, null=True, verbose_name='recall notice given')),
                        ('recall_reason', models.TextField(blank=True, verbose_name='recall reason')),
                        ('renewal_state', models.CharField(blank=True, choices=[('', 'Not asked'), ('requested', 'Requested'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='', max_length=20, verbose_name='renewal')),
                        ('renewal_ends_on', models.DateField(blank=True, null=True, verbose_name='renewal until')),
                        ('renewals', models.PositiveSmallIntegerField(default=0, verbose_name='renewals asked for')),
                        ('renewal_reason', models.TextField(blank=True, verbose_name='renewal reason')),
                        ('end_report', models.TextField(blank=True, verbose_name='end-of-loan report')),
                        ('end_report_gpu_hours', models.DecimalField(blank=True, decimal_places=1, max_digits=12, null=True, verbose_name='GPU-hours used')),
                        ('end_report_at', models.DateTimeField(blank=True, null=True, verbose_name='report filed at')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='loan', to='lending.loanrequest', verbose_name='request')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='lending.organisation', verbose_name='organisation')),
                    ],
                    options={
                        'verbose_name': 'short-term loan',
                        'verbose_name_plural': 'short-term loans',
                        'db_table': 'gpus_loan',
                        'ordering': ['-starts_at'],
                    },
                ),
                migrations.AddIndex(
                    model_name='loanrequest',
                    index=models.Index(fields=['state', 'submitted_at'], name='loan_request_queue_idx'),
                ),
                migrations.AddConstraint(
                    model_name='loanrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='loan_request_period_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='loanrequest',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('gpu_count__gte', 1), ('gpu_count__lte', 4)), models.Q(('gpu_count__gte', 8), django.db.models.lookups.Exact(django.db.models.functions.math.Mod(models.F('gpu_count'), 8), 0)), _connector='OR'), name='loan_request_size'),
                ),
                migrations.AddConstraint(
                    model_name='loanrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('accepts_recall_terms', True)), name='loan_request_accepts_terms'),
                ),
                migrations.AddConstraint(
                    model_name='loanrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('score__isnull', True), models.Q(('score__gte', 0), ('score__lte', 100)), _connector='OR'), name='loan_request_score_range'),
                ),
                migrations.AddIndex(
                    model_name='loan',
                    index=models.Index(fields=['state', 'starts_at'], name='loan_state_start_idx'),
                ),
                migrations.AddIndex(
                    model_name='loan',
                    index=models.Index(fields=['state', 'ends_at'], name='loan_state_end_idx'),
                ),
                migrations.AddConstraint(
                    model_name='loan',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='loan_period_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='loan',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'ended'), models.Q(('end_reason', ''), _negated=True)), models.Q(models.Q(('state', 'ended'), _negated=True), ('end_reason', '')), _connector='OR'), name='loan_end_reason_when_ended'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
