"""Settings are declared once, and the README's table is made from the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insights.settings import Settings, settings_table

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_settings_table_is_the_one_the_settings_make() -> None:
    text = README.read_text()
    found = re.search(r"<!-- settings:[^\n]*-->\n(.*?)<!-- /settings -->", text, re.S)
    assert found is not None, "the README has lost its settings markers"
    assert found.group(1) == settings_table()


def test_every_setting_says_what_it_is_for() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_each_setting_is_read_from_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INSIGHTS_DB_POOL_SIZE", "3")
    monkeypatch.setenv("INSIGHTS_REDIS_URL", "redis://127.0.0.1:6379/2")
    settings = Settings()
    assert (settings.db_pool_size, settings.redis_url) == (3, "redis://127.0.0.1:6379/2")
    assert f"`INSIGHTS_DB_POOL_SIZE` | `{Settings.model_fields['db_pool_size'].default}`" in (
        settings_table()
    )
