"""The test suite: every test that takes `db` runs on SQLite and on PostgreSQL."""
