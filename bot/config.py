"""Settings: built once (in the app factory or the CLI) and passed down; nothing else reads the
environment. Every field maps to an environment variable with the prefix ``FUQING_``."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in the code for development only; refused when FUQING_ENV is not development.
DEV_WECHAT_TOKEN = "dev-wechat-token"
PLACEHOLDER_SECRETS = frozenset(
    {"dev-secret-key", "dev-api-token", "dev-admin-token", DEV_WECHAT_TOKEN, "changeme", ""}
)
REQUIRED_SECRETS = ("secret_key", "api_token", "admin_token")
WECHAT_AES_NEEDS_APPID = (
    "FUQING_WECHAT_AES_KEY is set without FUQING_WECHAT_APPID: safe mode needs both "
    "(the AppID is the receive id inside every encrypted message)"
)
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

# Production (FUQING_ENV=production) refuses more than placeholders: each check of
# PRODUCTION_CHECKS takes the settings and returns its problems, each a sentence naming the
# variable and what to set. A module with a production rule of its own appends its check here.
ProductionCheck = Callable[["Settings"], list[str]]

# A production secret: at least 32 bytes, at least 3 bits per character on a Shannon estimate
# over its own characters (`aaaa…`, `passwordpassword…` have fewer), and not mostly a repeat of
# itself (`abcabc…`, `changeme-changeme-…`). secrets.token_urlsafe(32) is 43 characters of
# about 4.8 bits each; in 100,000 draws none came near either limit.
MIN_SECRET_BYTES = 32
MIN_BITS_PER_CHARACTER = 3.0
MAX_REPEATED_SHARE = 0.5
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
# WeChat's and WeCom's callback tokens take at most 32 letters and digits, so 32 it is.
MAKE_TOKEN_32 = (
    'python -c "import secrets, string; '
    "print(''.join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32)))\""
)
# The secrets the operator makes, and how to make each: the platforms fix the AES keys at 43
# characters (their consoles generate one), WeChat/WeCom tokens at 3 to 32 letters and digits,
# Telegram's webhook secret at 1 to 256 of A-Z a-z 0-9 _ -. The AppSecrets and the Telegram bot
# token are issued by the platforms: only placeholders are refused there.
CHOSEN_SECRETS = {
    "secret_key": MAKE_SECRET,
    "api_token": MAKE_SECRET,
    "admin_token": MAKE_SECRET,
    "telegram_secret": MAKE_SECRET,
    "metrics_token": MAKE_SECRET,
    "wechat_token": MAKE_TOKEN_32,
    "wecom_token": MAKE_TOKEN_32,
    "wechat_aes_key": "the 43-character EncodingAESKey the platform's console generates (随机生成)",
    "wecom_aes_key": "the 43-character EncodingAESKey the platform's console generates (随机生成)",
}


def bits_per_character(text: str) -> float:
    """The Shannon entropy of `text`'s own character frequencies, in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def repeated_share(text: str, shortest: int = 3) -> float:
    """The share of `text` made of repeats of an earlier part of it (runs of `shortest` or more
    characters, found greedily left to right): 0 for random text, near 1 for `abcabcabc`."""
    covered, at = 0, 0
    while at < len(text):
        longest = 0
        for start in range(at):
            n = 0
            while at + n < len(text) and text[start + n] == text[at + n]:
                n += 1
            longest = max(longest, n)
        if longest >= shortest:
            covered, at = covered + longest, at + longest
        else:
            at += 1
    return covered / len(text) if text else 0.0


def secret_weakness(value: str) -> str | None:
    """Why `value` is too weak for a production secret, or None when it is strong enough."""
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if bits_per_character(value) < MIN_BITS_PER_CHARACTER:
        return "has low entropy (too few different characters)"
    if repeated_share(value) >= MAX_REPEATED_SHARE:
        return "has low entropy (a repeated pattern)"
    return None


def weak_secrets(settings: Settings) -> list[str]:
    """The operator's secrets that are set (and not placeholders) but short or of low entropy,
    each with how to make a strong one."""
    problems = []
    for name, recipe in CHOSEN_SECRETS.items():
        value = getattr(settings, name)
        if not value or value in PLACEHOLDER_SECRETS:  # off, or refused as a placeholder
            continue
        weakness = secret_weakness(value)
        if weakness is not None:
            problems.append(f"FUQING_{name.upper()} {weakness}: set a random one ({recipe})")
    return problems


PRODUCTION_CHECKS: list[ProductionCheck] = [weak_secrets]


class Settings(BaseSettings):
    """All settings of the service (environment variables ``FUQING_*``)."""

    model_config = SettingsConfigDict(env_prefix="FUQING_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./data/fuqing.db"
    data_dir: Path = Path("./data")
    # Where `fuqing nlp train` writes the models retrained with staff's corrections, and where
    # the NLP loads them from at start-up (unset: FUQING_DATA_DIR/nlp-model).
    nlp_model_dir: Path | None = None
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

    # Urgent cases nobody accepted (scheduler/rules.py): chased after this many minutes to the
    # responsible unit's cadres, after this many to the district and the city's duty staff, then
    # every this many minutes until someone accepts, day or night.
    urgent_first_chase_minutes: int = Field(default=10, ge=1)
    urgent_escalate_minutes: int = Field(default=30, ge=1)
    urgent_repeat_minutes: int = Field(default=30, ge=1)
    # A safety check (您现在安全吗？) left unanswered this long follows the crisis path: the
    # scheduler opens her urgent case (bot/domain/safety.py).
    safety_check_minutes: int = Field(default=10, ge=1)
    # Hand-off (转人工, bot/domain/handoff.py): staff answer from/to this local time on working
    # days (the holiday calendar); a thread nobody answered this long is told when they will.
    office_hours: str = Field(default="09:00-17:30", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    handoff_answer_minutes: int = Field(default=10, ge=1)
    # 限时办结 (bot/domain/deadlines.py): working days to resolve and to accept a request, per
    # category, where they differ from the defaults 15 and 1 (e.g. "rights=10,relief=10"); an
    # urgent case is accepted within 30 minutes. Checked when the app is built
    # (`bot.app.create_app`).
    resolve_days: str = Field(default="", max_length=200)
    accept_days: str = Field(default="", max_length=200)

    # API limits.
    max_body_bytes: int = 16 * 1024
    # A longer message is cut to this, on every channel, and she is told (bot/engine.py). The
    # message log keeps what was read, so at most 4000 characters (its cap before).
    max_text_chars: int = Field(default=2000, ge=1, le=4000)
    # The JSON API's user id (else 422); the column storage.models.Identity.external_id is 128.
    max_user_chars: int = Field(default=64, ge=1, le=128)
    # Abuse limits (bot/limits.py): budgets per process, 0 turns one off; a cap on every body.
    rate_user_per_minute: int = Field(default=30, ge=0)
    rate_ip_per_minute: int = Field(default=300, ge=0)
    # The platform callbacks' own per-IP budget (requests a minute; see bot/limits.py for its size).
    rate_callback_ip_per_minute: int = Field(default=600, ge=0)
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

    @field_validator("office_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        """HH:MM-HH:MM, real times, opening before closing (refused at start-up otherwise)."""
        opens, closes = (time.fromisoformat(part) for part in value.split("-"))
        if opens >= closes:
            raise ValueError("office hours must open before they close")
        return value

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def trained_model_dir(self) -> Path:
        """Where the weights trained with staff's corrections live (FUQING_NLP_MODEL_DIR, else
        FUQING_DATA_DIR/nlp-model)."""
        return self.nlp_model_dir or self.data_dir / "nlp-model"

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
        """Refuse placeholder secrets outside development, WeChat settings that leave the callback
        unprotected and, in production, whatever PRODUCTION_CHECKS find (raises ValueError, a
        line per problem saying what to set)."""
        if self.env == "development":
            return
        weak = [name for name in REQUIRED_SECRETS if getattr(self, name) in PLACEHOLDER_SECRETS] + [
            name
            for name in OPTIONAL_SECRETS
            if getattr(self, name) and getattr(self, name) in PLACEHOLDER_SECRETS
        ]
        problems = []
        if weak:
            names = ", ".join("FUQING_" + n.upper() for n in weak)
            problems.append(f"placeholder secrets in {self.env}: set {names}")
        if self.env == "production":
            problems += [problem for check in PRODUCTION_CHECKS for problem in check(self)]
        problems += self._wechat_problems()
        if problems:
            raise ValueError("\n".join(problems))

    def _wechat_problems(self) -> list[str]:
        """An AES key needs the AppID (the receive id of its messages); in production the
        callback needs the AES key: plaintext mode signs no body, so it cannot be protected."""
        problems = []
        if self.wechat_aes_key and not self.wechat_appid:
            problems.append(WECHAT_AES_NEEDS_APPID)
        if self.env == "production" and self.wechat_token and not self.wechat_aes_key:
            problems.append(
                "FUQING_WECHAT_TOKEN is set without FUQING_WECHAT_AES_KEY in production: "
                "plaintext mode cannot be protected (its signature does not cover the message); "
                "choose 安全模式 in the Official Account and set FUQING_WECHAT_AES_KEY and "
                "FUQING_WECHAT_APPID"
            )
        return problems
