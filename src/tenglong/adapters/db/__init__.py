"""The database adapter: tables, engine, migrations, repositories."""
