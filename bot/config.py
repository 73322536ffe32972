"""Settings: built once (in the app factory or the CLI) and passed down; nothing else reads the
environment. Every field maps to an environment variable with the prefix ``FUQING_``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in the code for development only; refused when FUQING_ENV is not development.
PLACEHOLDER_SECRETS = frozenset(
    {"dev-secret-key", "dev-api-token", "dev-admin-token", "changeme", ""}
)


class Settings(BaseSettings):
    """All settings of the service (environment variables ``FUQING_*``)."""

    model_config = SettingsConfigDict(env_prefix="FUQING_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./data/fuqing.db"
    data_dir: Path = Path("./data")
    secret_key: str = "dev-secret-key"
    api_token: str = "dev-api-token"
    admin_token: str = "dev-admin-token"
    timezone: str = "Asia/Shanghai"
    report_due_days: int = 10
    log_level: str = "INFO"

    wechat_token: str | None = None
    wechat_appid: str | None = None
    wechat_aes_key: str | None = None
    wechat_secret: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    telegram_token: str | None = None
    telegram_secret: str | None = None
    telegram_api_base: str | None = None
    scheduler: Literal["on", "off"] = "on"

    # Dialogue timing (minutes / days): a flow idle this long is offered for resumption / dropped.
    resume_after_minutes: int = Field(default=30, ge=1)
    drop_after_days: int = Field(default=7, ge=1)

    # API limits.
    max_body_bytes: int = 16 * 1024
    max_text_chars: int = 2000
    max_user_chars: int = 64

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    def check_secrets(self) -> None:
        """Refuse placeholder secrets outside development (raises ValueError naming them)."""
        if self.env == "development":
            return
        weak = [
            name
            for name in ("secret_key", "api_token", "admin_token")
            if getattr(self, name) in PLACEHOLDER_SECRETS
        ]
        if weak:
            names = ", ".join("FUQING_" + n.upper() for n in weak)
            raise ValueError(f"placeholder secrets in {self.env}: set {names}")
