"""Test helpers shared by every test module (fixtures live in tests/conftest.py)."""
