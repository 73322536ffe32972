"""The scale and fault tests use `pg_url` and `pg_schema` from tests/conftest.py (a throw-away
PostgreSQL schema of the database in FUQING_TEST_DATABASE_URL); they skip without that variable."""
