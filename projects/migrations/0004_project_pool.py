"""Every project draws its servers from one pool; a project may hold none (all reclaimed)."""

import django.db.models.deletion
import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models


def assign_pool(apps, schema_editor):
    Pool = apps.get_model("gpus", "Pool")
    Project = apps.get_model("projects", "Project")
    if not Project.objects.exists():
        return
    import datetime as dt

    programme, _ = Pool.objects.get_or_create(
        code="nai-2026",
        defaults={"name_ko": "2026 국가 AI 프로젝트", "name_en": "2026 national AI projects", "kind": "programme",
                  "published_gpus": 2832, "opens_on": dt.date(2026, 4, 7)},
    )
    Project.objects.filter(pool__isnull=True).update(pool=programme)


class Migration(migrations.Migration):

    dependencies = [
        ('gpus', '0004_pools_and_in_use'),
        ('projects', '0003_projectgpurequest'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='project',
            name='project_awards_whole_servers',
        ),
        migrations.AddConstraint(
            model_name='project',
            constraint=models.CheckConstraint(condition=models.Q(('gpus_awarded__gte', 0), django.db.models.lookups.Exact(django.db.models.functions.math.Mod(models.F('gpus_awarded'), 8), 0)), name='project_awards_whole_servers'),
        ),
        migrations.AddField(
            model_name='project',
            name='pool',
            field=models.ForeignKey(null=True, help_text="The programme capacity the project's servers come from.", on_delete=django.db.models.deletion.PROTECT, related_name='projects', to='gpus.pool', verbose_name='pool'),
        ),
        migrations.RunPython(assign_pool, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='project',
            name='pool',
            field=models.ForeignKey(help_text="The programme capacity the project's servers come from.", on_delete=django.db.models.deletion.PROTECT, related_name='projects', to='gpus.pool', verbose_name='pool'),
        ),
    ]
