"""`piccolo migrations new <app> --auto` sees no difference between the tables and the
migrations, so it never proposes to create again (or drop) what raw-SQL migrations made.

Tables, columns, functions and triggers made in raw SQL are recorded for Piccolo by
`fake` migrations (see `registry_2026_11_27t17_03_26_154975.py`); a new raw-SQL table
needs one too, made the same way (`--auto`, then `fake=True`).
"""

from __future__ import annotations

from itertools import chain

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import AppRegistry

from service.database import PICCOLO_APPS

APPS = AppRegistry(apps=PICCOLO_APPS).app_configs


@pytest.mark.parametrize("app_name", sorted(APPS))
async def test_auto_migrations_find_nothing_to_do(app_name, capsys):
    alter = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=APPS[app_name])
    statements = list(chain.from_iterable(a.statements for a in alter))
    capsys.readouterr()  # Piccolo prints a summary table
    assert statements == [], "\n".join(statements)


def test_every_table_is_in_its_app():
    """A table left out of its app's `table_classes` would look dropped to `--auto`."""
    from piccolo.table import Table

    import service

    listed = {table for app in APPS.values() for table in app.table_classes}
    defined = {
        table
        for table in Table.__subclasses__()
        if table.__module__.startswith(service.__name__ + ".") and table.__module__.endswith(".tables")
    }
    assert defined - listed == set()
