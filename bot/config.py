"""Settings: built once (in the app factory or the CLI) and passed down; nothing else reads the
environment. Every field maps to an environment variable with the prefix ``FUQING_``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in the code for development only; refused when FUQING_ENV is not development.
DEV_WECHAT_TOKEN = "dev-wechat-token"
PLACEHOLDER_SECRETS = frozenset(
    {"dev-secret-key", "dev-api-token", "dev-admin-token", DEV_WECHAT_TOKEN, "changeme", ""}
)
REQUIRED_SECRETS = ("secret_key", "api_token", "admin_token")
# Channel secrets: unset or empty turns the channel off; set, they must not be a placeholder.
OPTIONAL_SECRETS = (
    "wechat_token",
    "wechat_aes_key",
    "wechat_secret",
    "wecom_token",
    "wecom_aes_key",
    "wecom_secret",
    "telegram_token",
    "telegram_secret",
    "metrics_token",
)


class Settings(BaseSettings):
    """All settings of the service (environment variables ``FUQING_*``)."""

    model_config = SettingsConfigDict(env_prefix="FUQING_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./data/fuqing.db"
    data_dir: Path = Path("./data")
    secret_key: str = "dev-secret-key"
    # The previous secret key during a key rotation (`fuqing rotate-key`): read, never written.
    old_secret_key: str | None = None
    api_token: str = "dev-api-token"
    admin_token: str = "dev-admin-token"
    timezone: str = "Asia/Shanghai"
    report_due_days: int = 10
    log_level: str = "INFO"

    # WeChat Official Account. Without a token the channel is off, except in development, where
    # /wechat answers in plaintext mode with DEV_WECHAT_TOKEN so it can be tried locally.
    wechat_token: str | None = None
    wechat_appid: str | None = None
    wechat_aes_key: str | None = None
    wechat_secret: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_template_id: str | None = None
    wechat_reply_timeout: float = Field(default=4.0, gt=0)
    # WeCom (企业微信): all four of corp id, token, AES key and agent id turn it on.
    wecom_corp_id: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_secret: str | None = None
    wecom_agent_id: int | None = None
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
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
    # Abuse limits (bot/limits.py): budgets per process, 0 turns one off; a cap on every body.
    rate_user_per_minute: int = Field(default=30, ge=0)
    rate_ip_per_minute: int = Field(default=300, ge=0)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Deployment (docs/operations.md, "Deploying"). Request heads are capped before any parsing:
    # uvicorn refuses a head over max_header_bytes, the app a larger sum of headers or Cookie (431).
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_cookie_bytes: int = Field(default=4096, ge=256)
    # Proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For/-Proto are believed; none
    # by default, so a client cannot choose the IP the rate limits see.
    forwarded_allow_ips: str = ""
    # /docs, /redoc and /openapi.json: unset means on, except in production.
    api_docs: Literal["on", "off"] | None = None
    # Bearer token of GET /metrics (Prometheus); unset: no /metrics.
    metrics_token: str | None = None
    log_format: Literal["text", "json"] = "text"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def api_docs_enabled(self) -> bool:
        """True when /docs, /redoc and /openapi.json are served (FUQING_API_DOCS, else not in
        production)."""
        return self.api_docs == "on" if self.api_docs else self.env != "production"

    @property
    def effective_wechat_token(self) -> str | None:
        """The /wechat token: the setting, or the development placeholder in development."""
        if self.wechat_token:
            return self.wechat_token
        return DEV_WECHAT_TOKEN if self.env == "development" else None

    @property
    def telegram_webhook_enabled(self) -> bool:
        """True when the `/telegram` webhook is on: a bot token and a secret to check."""
        return bool(self.telegram_token and self.telegram_secret)

    @property
    def wecom_enabled(self) -> bool:
        """True when every WeCom callback setting is present."""
        return bool(self.wecom_corp_id and self.wecom_token and self.wecom_aes_key)

    def check_secrets(self) -> None:
        """Refuse placeholder secrets outside development (raises ValueError naming them)."""
        if self.env == "development":
            return
        weak = [name for name in REQUIRED_SECRETS if getattr(self, name) in PLACEHOLDER_SECRETS] + [
            name
            for name in OPTIONAL_SECRETS
            if getattr(self, name) and getattr(self, name) in PLACEHOLDER_SECRETS
        ]
        if weak:
            names = ", ".join("FUQING_" + n.upper() for n in weak)
            raise ValueError(f"placeholder secrets in {self.env}: set {names}")
