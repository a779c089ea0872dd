"""One frozen settings object, read once from the environment (JCD_*)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Tests build one directly; the CLI reads the environment."""

    data_dir: Path = Path("var")
    database_url: str = ""
    env: str = "development"  # development | test | production
    demo: bool = False
    secure_cookies: bool = False  # True behind HTTPS: __Host- cookie prefix, Secure, HSTS
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    draft_retention_days: int = 183
    upload_max_bytes: int = 10 * 1024 * 1024
    public_origin: str = ""  # e.g. https://jobcenter.digital; empty = trust the Host header
    # -- mail (real SMTP; `make run` starts a local catcher, tests an aiosmtpd server) --
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    mail_from: str = "Jobcenter digital <noreply@jobcenter.digital>"
    #: where the demo mail catcher keeps caught mail (shown at /dev/mail in demo mode only)
    mail_catcher_dir: Path | None = None
    # -- eID over SAML 2.0 --
    #: IdP metadata file (production: the BundID-style provider). Empty: the local test IdP.
    eid_idp_metadata: str = ""
    #: SP key and certificate (PEM files); empty: generated under data_dir at first start
    eid_sp_key: str = ""
    eid_sp_cert: str = ""
    # -- passkeys (WebAuthn) --
    rp_name: str = "Jobcenter digital"
    #: relying-party id (the host name); empty: the host of public_origin or of the request
    rp_id: str = ""

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jobcenter.sqlite3').resolve()}"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "data_dir": Path(env.get("JCD_DATA_DIR", "var")),
            "database_url": env.get("JCD_DATABASE_URL", ""),
            "env": env.get("JCD_ENV", "development"),
            "demo": env.get("JCD_DEMO", "") == "1",
            "secure_cookies": env.get("JCD_SECURE_COOKIES", "") == "1",
            "public_origin": env.get("JCD_PUBLIC_ORIGIN", ""),
            "smtp_host": env.get("JCD_SMTP_HOST", "127.0.0.1"),
            "smtp_port": int(env.get("JCD_SMTP_PORT", "8025")),
            "mail_from": env.get("JCD_MAIL_FROM", cls.mail_from),
            "eid_idp_metadata": env.get("JCD_EID_IDP_METADATA", ""),
            "eid_sp_key": env.get("JCD_EID_SP_KEY", ""),
            "eid_sp_cert": env.get("JCD_EID_SP_CERT", ""),
            "rp_id": env.get("JCD_RP_ID", ""),
        }
        if env.get("JCD_MAIL_CATCHER_DIR"):
            values["mail_catcher_dir"] = Path(env["JCD_MAIL_CATCHER_DIR"])
        if env.get("JCD_SECRET_KEY"):
            values["secret_key"] = env["JCD_SECRET_KEY"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
