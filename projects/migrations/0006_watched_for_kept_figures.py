from django.db import migrations

from allocation_portal import kept

# The tables whose rows kept figures (outcomes, the status board) are computed from.
TABLES = ["projects_project", "projects_usageplan", "projects_ministry", "projects_projectgpurequest"]


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_project_plan_start"), ("allocation_portal", "0015_change_number")]

    operations = [migrations.RunSQL(kept.watch(TABLES), kept.unwatch(TABLES))]
