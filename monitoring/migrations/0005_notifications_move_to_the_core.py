"""Notices are the core's now (allocation_portal.Notification keeps this app's table)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('allocation_portal', '0006_notifications_move_to_the_core'),
        ('monitoring', '0004_policy_moves_to_the_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Notification')],
            database_operations=[],
        ),
    ]
