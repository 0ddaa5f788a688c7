"""One Settings class, read from the environment (prefix ``HELPDESK_``), grouped by concern."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Lists read from the environment as comma-separated values, as operators write them.
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    # Database: a plain PostgreSQL URL as hosting providers hand it out; unset means embedded.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "HELPDESK_DATABASE_URL")
    )
    data_dir: Path = Path(".helpdesk")
    db_pool_size: int = 10
    db_max_overflow: int = 10

    # HTTP serving
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    access_log: bool = True
    # On SIGTERM, `serve` finishes requests in flight for at most this long, and `worker`
    # lets deliveries in flight finish for as long, then releases their leases. Below the
    # 30 s most platforms wait before they kill.
    shutdown_timeout_seconds: int = Field(default=20, ge=0)

    # Bootstrap: an admin whose API token is this value, created when no admin exists.
    bootstrap_token: str | None = None

    # Request limits
    max_body_bytes: int = 1_048_576
    max_attachment_bytes: int = 20 * 1024 * 1024
    # Per user once a token has authenticated, per client address otherwise.
    rate_limit_per_minute: int = 6000
    rate_limit_burst: int = 600
    # Saved views' badge counts: kept per view and caller this long, counted up to the cap.
    view_count_ttl_seconds: float = Field(default=30.0, ge=0, le=3600)
    view_count_cap: int = Field(default=10_000, ge=1, le=1_000_000)
    # The client address behind a reverse proxy: unset means the peer address is the client.
    # With a header (X-Forwarded-For, X-Real-IP, …), the client is the entry written by the
    # trusted_proxy_count-th proxy from the right; with trusted_proxies (addresses or CIDRs),
    # the header counts only from those peers, and the client is the rightmost entry that is
    # not one of them.
    trusted_proxy_header: str | None = None
    trusted_proxy_count: int = Field(default=1, ge=1, le=20)
    trusted_proxies: CommaList = []

    # Browsers: origins allowed to call the API cross-origin (CORS); empty means none.
    cors_origins: CommaList = []
    cors_max_age_seconds: int = Field(default=600, ge=0)

    # Prometheus metrics at /metrics, for this bearer token only; unset means /metrics is off.
    metrics_token: str | None = Field(default=None, min_length=16)

    # Password logins. After the free failures in a row, an account (the e-mail as typed) or a
    # client address must wait base seconds, twice as long after each further failure, up to
    # the maximum; failures older than the memory are forgotten. 0 free failures: no limit.
    login_free_failures_per_account: int = Field(default=5, ge=0)
    login_free_failures_per_address: int = Field(default=20, ge=0)
    login_backoff_base_seconds: float = Field(default=2.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900.0, gt=0)
    login_failure_memory_seconds: float = Field(default=3600.0, gt=0)

    # API tokens: an explicit expires_at may lie at most this far ahead.
    token_max_lifetime_days: int = Field(default=365, ge=1, le=36_500)

    idempotency_ttl_hours: int = 24
    # Knowledge base: new votes one client address may cast per hour (votes changed or
    # repeated are not counted).
    kb_votes_per_address_per_hour: int = Field(default=60, ge=1)
    # The bot that answers a new ticket at once with the best public articles in the
    # requester's language. It speaks only when both pages are set: an article's page
    # (`{id}` and `{locale}` stand for them, https://support.example.com/kb/{id}?hl={locale})
    # and the page that asks "did this solve it?" (`{token}`,
    # https://support.example.com/deflect/{token}), which posts the answer to
    # POST /v1/public/deflections/{token}. Messaging channels turn it on per channel
    # (`kb_bot_*` of /v1/channels); the web form with the three settings below.
    kb_article_url: str | None = None
    kb_deflection_url: str | None = None
    kb_bot_web_form_enabled: bool = False
    # The least search rank (ts_rank of the request's words, plus a shared tag's bonus) an
    # article needs to be offered, and how many at most.
    kb_bot_web_form_min_rank: float = Field(default=0.05, ge=0, le=10)
    kb_bot_web_form_max_articles: int = Field(default=3, ge=1, le=10)
    # The public web form (POST /v1/public/requests). Requests one client address may send
    # an hour (accepted or caught as spam); the largest body (JSON with base64 attachments)
    # and how many files one request may carry.
    web_form_requests_per_address_per_hour: int = Field(default=10, ge=1)
    web_form_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    web_form_max_attachments: int = Field(default=5, ge=0, le=20)
    # With a secret, every request must carry a signed form token from
    # GET /v1/public/requests/form-token, spent once, at least min_age and at most max_age
    # seconds old (a form filled in faster than a person can is a script).
    web_form_secret: str | None = Field(default=None, min_length=16)
    web_form_token_max_age_seconds: int = Field(default=7200, ge=60)
    web_form_token_min_age_seconds: int = Field(default=0, ge=0)
    # A CAPTCHA check: the siteverify URL of reCAPTCHA, hCaptcha, Turnstile or anything that
    # answers their protocol (a form POST of secret, response and remoteip answered with
    # JSON {"success": true|false}). Unset: no CAPTCHA.
    web_form_captcha_verify_url: str | None = None
    web_form_captcha_secret: str | None = None
    web_form_captcha_timeout_seconds: float = Field(default=5.0, gt=0)
    sla_warning_fraction: float = Field(default=0.75, gt=0, le=1)  # sla.warning at this share

    # Worker and webhooks
    worker_poll_seconds: float = 5.0
    worker_concurrency: int = 16
    webhook_timeout_seconds: float = 15.0
    # Comma-separated seconds between attempts; default: the Standard Webhooks schedule.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    webhook_allow_private: bool = False
    webhook_secret_overlap_hours: int = 24

    # Inbound mail. `helpdesk-api smtp` listens here and accepts mail for the mailboxes'
    # addresses only; messages over the size limit are refused at DATA.
    smtp_listen_host: str = "127.0.0.1"
    smtp_listen_port: int = Field(default=2525, ge=0, le=65535)
    smtp_max_message_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    # Optional AUTH (required when set) and STARTTLS (a PEM certificate and key).
    smtp_listen_username: str | None = None
    smtp_listen_password: str | None = None
    smtp_tls_cert_file: Path | None = None
    smtp_tls_key_file: Path | None = None
    # The worker polls each mailbox that has an IMAP server this often; a server silent for
    # the timeout fails that mailbox's poll (recorded in its imap_error), not the others'.
    mail_imap_poll_seconds: float = Field(default=60.0, gt=0)
    mail_imap_timeout_seconds: float = Field(default=30.0, gt=0)
    # Where the server offers IDLE, the worker also keeps a connection per mailbox it polled
    # waiting in IDLE, and polls at once on new mail: at most this many; 0: no IDLE.
    mail_imap_idle_max_connections: int = Field(default=20, ge=0)
    # A sender mailing more than this many new requests in an hour has the rest added to
    # their latest ticket instead of opening new ones; 0: no limit.
    mail_new_tickets_per_sender_per_hour: int = Field(default=20, ge=0)
    # Languages a new ticket's text is detected among (ISO 639-1), and the confidence below
    # which it is recorded as undetermined.
    mail_languages: CommaList = ["en", "it", "ru", "hu", "ro"]
    mail_language_min_confidence: float = Field(default=0.5, ge=0, le=1)

    # Outbound mail: the relay the worker sends through. Unset host: mail waits in the outbox.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = Field(default="starttls", pattern="^(none|starttls|ssl)$")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # Seconds between attempts, comma-separated; after the last, the message has failed.
    mail_retry_schedule: str = "60,300,1800,7200,21600,43200"
    # The right-hand side of our Message-IDs; defaults to each mailbox's own domain.
    mail_message_id_domain: str | None = None

    # Notifications link to a ticket here: its address in the customer portal and in the
    # agent workspace, `{id}` standing for the ticket's id
    # (https://support.example.com/requests/{id}). Unset: notifications carry no link.
    notification_portal_url: str | None = None
    notification_agent_url: str | None = None

    # Satisfaction ratings (CSAT). A solved ticket's requester may rate it; the solved
    # notice carries rating links when `satisfaction_url` is set: the page (of the portal)
    # that shows the rating form, `{token}` standing for the rating token and `{score}`, if
    # present, for the score the link proposes (https://support.example.com/rate/{token}?score={score}).
    # The page posts the answer to POST /v1/public/satisfaction/{token}. Never a GET that
    # rates: mail scanners open links.
    satisfaction_enabled: bool = True
    satisfaction_url: str | None = None
    # "good_bad", or "five_point": then a rating gives `rating` 1–5 (4 and 5 count as good).
    satisfaction_scale: str = Field(default="good_bad", pattern="^(good_bad|five_point)$")
    # How long a rating link works (the ticket closing ends it sooner).
    satisfaction_token_days: int = Field(default=28, ge=1, le=365)
    # A bad rating reopens the ticket (once per cycle), through the ticket pipeline.
    satisfaction_bad_reopens: bool = False

    @field_validator("satisfaction_url")
    @classmethod
    def _rating_link(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.startswith(("https://", "http://")) or "{token}" not in value
        ):
            raise ValueError("must be an http(s) URL with {token} where the rating token goes")
        return value

    @field_validator("kb_article_url", "kb_deflection_url")
    @classmethod
    def _kb_link(cls, value: str | None, info: ValidationInfo) -> str | None:
        needs = ("{id}",) if info.field_name == "kb_article_url" else ("{token}",)
        if value is not None and (
            not value.startswith(("https://", "http://")) or not all(n in value for n in needs)
        ):
            raise ValueError(f"must be an http(s) URL with {', '.join(needs)}")
        return value

    @field_validator("web_form_captcha_verify_url")
    @classmethod
    def _verify_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("notification_portal_url", "notification_agent_url")
    @classmethod
    def _ticket_link(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.startswith(("https://", "http://")) or "{id}" not in value
        ):
            raise ValueError("must be an http(s) URL with {id} where the ticket id goes")
        return value

    @field_validator("trusted_proxies", "cors_origins", "mail_languages", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # a ValueError names the bad entry
        return value

    def retry_schedule(self) -> list[float]:
        return [float(part) for part in self.webhook_retry_schedule.split(",") if part.strip()]

    def mail_retry_delays(self) -> list[float]:
        return [float(part) for part in self.mail_retry_schedule.split(",") if part.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
