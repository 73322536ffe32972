"""Settings: environment prefix and the refusal of placeholder secrets outside development."""

from __future__ import annotations

import pytest

from bot.config import Settings


def test_settings_read_the_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """FUQING_* variables set the fields."""
    monkeypatch.setenv("FUQING_REPORT_DUE_DAYS", "12")
    monkeypatch.setenv("FUQING_DATABASE_URL", "postgresql+psycopg://x@y/z")
    settings = Settings()
    assert settings.report_due_days == 12 and not settings.is_sqlite


def test_placeholders_are_fine_in_development() -> None:
    """Development accepts the shipped tokens."""
    Settings(env="development").check_secrets()


def test_placeholders_are_refused_in_production() -> None:
    """Production with a placeholder secret names the variables to set."""
    with pytest.raises(ValueError, match=r"FUQING_SECRET_KEY.*FUQING_API_TOKEN"):
        Settings(env="production", admin_token="a-real-one").check_secrets()
    Settings(env="production", secret_key="s", api_token="a", admin_token="b").check_secrets()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_text_chars", 0),
        ("max_text_chars", 4001),
        ("max_user_chars", 0),
        ("max_user_chars", 129),
    ],
)
def test_text_and_user_limits_stay_within_what_is_stored(field: str, value: int) -> None:
    """The message log keeps at most 4000 characters of what was read and an address column
    takes 128: limits beyond them (or none at all) are refused at start-up."""
    with pytest.raises(ValueError, match=field):
        Settings(**{field: value})
