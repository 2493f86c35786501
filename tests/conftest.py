"""Fixtures shared by every test folder."""

pytest_plugins = ["tests.statefixtures", "tests.serverfixtures"]
