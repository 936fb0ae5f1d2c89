from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("compilations", "0001_initial"),
        ("reports", "0005_dashboard_covering_indexes"),
    ]

    # Compilation moved to reports.compilations with its table; nothing changes in the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Compilation")],
            database_operations=[],
        ),
    ]
