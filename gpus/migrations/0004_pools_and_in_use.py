"""Pools, and the cross-layer rule: no GPU is used by a loan and by a started project at once.

Existing servers that projects or the MSIT reserve hold join the 2026 programme's pool; the rest
are the government's other GPUs. Existing awards of started projects are in use from the start, or
from the end of the loans that still held their GPUs then."""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.db.models.deletion
from django.db import migrations, models

PROGRAMME = {"code": "nai-2026", "name_ko": "2026 국가 AI 프로젝트", "name_en": "2026 national AI projects",
             "kind": "programme", "published_gpus": 2832}
OTHER = {"code": "gov-other", "name_ko": "정부 보유 기타 GPU", "name_en": "Other government GPUs", "kind": "other"}


def assign_pools(apps, schema_editor):
    import datetime as dt

    Pool = apps.get_model("gpus", "Pool")
    Server = apps.get_model("gpus", "Server")
    LoanRequest = apps.get_model("gpus", "LoanRequest")
    AllocationGpu = apps.get_model("gpus", "AllocationGpu")
    if not Server.objects.exists() and not LoanRequest.objects.exists():
        return
    programme, _ = Pool.objects.get_or_create(code=PROGRAMME["code"], defaults={**PROGRAMME, "opens_on": dt.date(2026, 4, 7)})
    other, _ = Pool.objects.get_or_create(code=OTHER["code"], defaults=OTHER)
    in_programme = AllocationGpu.objects.filter(layer="award").values("gpu__server_id")
    Server.objects.filter(pk__in=in_programme).update(pool=programme)
    Server.objects.filter(pool__isnull=True).update(pool=other)
    LoanRequest.objects.filter(pool__isnull=True).update(pool=programme)


IN_USE_SQL = """
UPDATE gpus_allocationgpu h
   SET in_use_from = GREATEST(
         lower(h.period),
         p.actual_start::timestamp AT TIME ZONE 'Asia/Seoul',
         COALESCE((SELECT max(upper(l.period)) FROM gpus_allocationgpu l
                    WHERE l.gpu_id = h.gpu_id AND l.layer = 'loan'
                      AND l.period && tstzrange(p.actual_start::timestamp AT TIME ZONE 'Asia/Seoul', upper(h.period))),
                  '-infinity'::timestamptz))
  FROM gpus_allocation a
  JOIN projects_project p ON p.id = a.project_id
 WHERE a.id = h.allocation_id AND h.layer = 'award' AND a.holder_kind = 'project' AND p.actual_start IS NOT NULL
"""


class Migration(migrations.Migration):

    dependencies = [
        ('gpus', '0003_alter_loanrequest_ai_basic_act_and_more'),
        ('projects', '0003_projectgpurequest'),
    ]

    operations = [
        migrations.CreateModel(
            name='Pool',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                ('name_ko', models.CharField(max_length=100, verbose_name='name (Korean)')),
                ('name_en', models.CharField(max_length=150, verbose_name='name (English)')),
                ('kind', models.CharField(choices=[('programme', 'National AI programme'), ('other', 'Other government GPUs')], max_length=20, verbose_name='kind')),
                ('opens_on', models.DateField(blank=True, help_text="The first day the programme's projects can hold GPUs.", null=True, verbose_name='awards from')),
                ('published_gpus', models.PositiveIntegerField(blank=True, help_text="The programme's GPUs as announced.", null=True, verbose_name='GPUs published')),
            ],
            options={
                'verbose_name': 'pool',
                'verbose_name_plural': 'pools',
                'ordering': ['kind', 'code'],
            },
        ),
        migrations.AddField(
            model_name='server',
            name='pool',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='servers', to='gpus.pool', verbose_name='pool'),
        ),
        migrations.AddField(
            model_name='loanrequest',
            name='pool',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='gpus.pool', verbose_name='pool'),
        ),
        migrations.RunPython(assign_pools, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='server',
            name='pool',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='servers', to='gpus.pool', verbose_name='pool'),
        ),
        migrations.AlterField(
            model_name='loanrequest',
            name='pool',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='gpus.pool', verbose_name='pool'),
        ),
        migrations.AddIndex(
            model_name='server',
            index=models.Index(fields=['pool', 'status'], name='server_pool_status_idx'),
        ),
        migrations.RemoveConstraint(
            model_name='allocation',
            name='allocation_holder_matches',
        ),
        migrations.AlterField(
            model_name='allocation',
            name='holder_kind',
            field=models.CharField(choices=[('project', 'National project'), ('suspended', 'Suspended (off-purpose case)'), ('reserve', 'MSIT reserve'), ('loan', 'Short-term loan')], max_length=20, verbose_name='holder'),
        ),
        migrations.AddConstraint(
            model_name='allocation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('holder_kind', 'project'), ('layer', 'award'), ('loan__isnull', True), ('project__isnull', False)), models.Q(('holder_kind', 'suspended'), ('layer', 'award'), ('loan__isnull', True), ('project__isnull', False)), models.Q(('holder_kind', 'reserve'), ('layer', 'award'), ('loan__isnull', True), ('project__isnull', True)), models.Q(('holder_kind', 'loan'), ('layer', 'loan'), ('loan__isnull', False), ('project__isnull', True)), _connector='OR'), name='allocation_holder_matches'),
        ),
        migrations.AddField(
            model_name='allocationgpu',
            name='in_use_from',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(IN_USE_SQL, migrations.RunSQL.noop),
        migrations.AddField(
            model_name='allocationgpu',
            name='occupied',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(layer='loan', then=models.F('period')), models.When(in_use_from__isnull=False, then=models.Func(models.F('period'), models.Func(models.F('in_use_from'), models.Value(None), models.Value('[)'), function='tstzrange', output_field=django.contrib.postgres.fields.ranges.DateTimeRangeField()), function='range_intersect', output_field=django.contrib.postgres.fields.ranges.DateTimeRangeField())), default=None, output_field=django.contrib.postgres.fields.ranges.DateTimeRangeField()), output_field=django.contrib.postgres.fields.ranges.DateTimeRangeField()),
        ),
        migrations.AddConstraint(
            model_name='allocationgpu',
            constraint=models.CheckConstraint(condition=models.Q(('layer', 'award'), ('in_use_from__isnull', True), _connector='OR'), name='allocation_gpu_in_use_only_for_awards'),
        ),
        migrations.AddConstraint(
            model_name='allocationgpu',
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(condition=models.Q(('occupied__isnull', False)), expressions=[('gpu', '='), ('occupied', '&&')], name='gpu_never_used_twice'),
        ),
    ]
