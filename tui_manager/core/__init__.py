"""The engine: no UI imports allowed here (tests/unit/test_import_hygiene.py enforces it)."""
