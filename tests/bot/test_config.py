"""Settings: environment prefix, the refusal of placeholder secrets outside development and
of short or low-entropy secrets in production."""

from __future__ import annotations

import re
import secrets
import string

import pytest

from bot.config import Settings, bits_per_character, repeated_share

STRONG = {name: secrets.token_urlsafe(32) for name in ("secret_key", "api_token", "admin_token")}


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
        Settings(env="production", admin_token=STRONG["admin_token"]).check_secrets()
    Settings(env="production", **STRONG).check_secrets()


def test_short_secrets_are_refused_in_production_and_say_how_to_make_one() -> None:
    """Production refuses secrets under 32 bytes, a line for each, with the command that
    makes a strong one; `test` keeps taking them (the tests' own settings)."""
    short = Settings(env="production", secret_key="x", api_token="a", admin_token="b")
    with pytest.raises(ValueError) as refused:
        short.check_secrets()
    lines = str(refused.value).splitlines()
    assert [line.split()[0] for line in lines] == [
        "FUQING_SECRET_KEY",
        "FUQING_API_TOKEN",
        "FUQING_ADMIN_TOKEN",
    ]
    for line in lines:
        assert "shorter than 32 bytes" in line
        assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in line
    Settings(env="test", secret_key="x", api_token="a", admin_token="b").check_secrets()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("a" * 43, "too few different characters"),
        ("password" * 4, "too few different characters"),
        ("passwordpassword" * 3, "too few different characters"),
        ("changeme-" * 4, "too few different characters"),
        ("0123456789" * 4, "a repeated pattern"),
        ("Zq8#mK2!" * 5, "a repeated pattern"),
    ],
)
def test_low_entropy_secrets_are_refused_in_production(secret: str, why: str) -> None:
    """Long secrets of few different characters or of a repeated pattern are refused."""
    weak = Settings(env="production", **(STRONG | {"api_token": secret}))
    with pytest.raises(ValueError, match=f"^FUQING_API_TOKEN has low entropy \\({why}\\)"):
        weak.check_secrets()


def test_random_secrets_pass_in_production() -> None:
    """Every secrets.token_urlsafe(32) of 200 passes, and so do random 32-letter WeChat and
    WeCom tokens and 43-character AES keys."""
    letters = string.ascii_letters + string.digits
    for _ in range(200):
        token = "".join(secrets.choice(letters) for _ in range(32))
        aes_key = "".join(secrets.choice(letters) for _ in range(43))
        Settings(
            env="production",
            secret_key=secrets.token_urlsafe(32),
            api_token=secrets.token_urlsafe(32),
            admin_token=secrets.token_urlsafe(32),
            wechat_token=token,
            wechat_aes_key=aes_key,
            wechat_appid="wx0123456789abcdef",
            wecom_token=token,
            wecom_aes_key=aes_key,
            telegram_secret=secrets.token_urlsafe(32),
        ).check_secrets()


@pytest.mark.parametrize(
    ("field", "value", "advice"),
    [
        ("wechat_token", "wx-token-1", "range(32)"),
        ("wecom_token", "abcabcabcabcabcabcabcabcabcabcab", "range(32)"),
        ("wechat_aes_key", "A" * 43, "EncodingAESKey"),
        ("wecom_aes_key", "0123456789" * 4 + "abc", "EncodingAESKey"),
        ("telegram_secret", "tg-secret", "token_urlsafe(32)"),
    ],
)
def test_weak_channel_secrets_are_refused_in_production(
    field: str, value: str, advice: str
) -> None:
    """The channel secrets the operator makes follow the same rule, with advice that fits
    the platform (WeChat and WeCom tokens: 32 letters and digits at most)."""
    with pytest.raises(ValueError, match=f"^FUQING_{field.upper()} .*{re.escape(advice)}"):
        Settings(env="production", **(STRONG | {field: value})).check_secrets()  # type: ignore[arg-type]


def test_platform_issued_secrets_are_not_held_to_the_rule() -> None:
    """AppSecrets and the Telegram bot token come from the platforms: only placeholders count."""
    issued = {"wechat_secret": "short", "wecom_secret": "short", "telegram_token": "1:x"}
    Settings(env="production", **(STRONG | issued)).check_secrets()  # type: ignore[arg-type]


def test_entropy_estimates() -> None:
    """Bits per character and the repeated share read as documented."""
    assert bits_per_character("aaaa") == 0
    assert bits_per_character("abcd") == 2
    assert repeated_share("abcabcabc") == pytest.approx(6 / 9)
    assert repeated_share("abcdefgh") == 0
    assert repeated_share("") == 0


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
