"""Settings from ``CLARION_*`` environment variables, optionally a TOML file.

Every setting is listed in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from clarion.outbound import IPNetwork, parse_networks

LOG_LEVELS = ("debug", "info", "warning", "error")


class BadSetting(ValueError):
    """A setting Clarion cannot run with, told in one line: where it was set, what it got and
    what it expects, so the operator needs no traceback to fix it."""


class _EnvSource(EnvSettingsSource):
    """Hands list settings over as written, so their validator reads the PATH form
    (``/a:/b``) as well as JSON and reports a bad value like any other."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        return value


class Settings(BaseSettings):
    """How one Clarion process runs: where it listens, where it keeps data, who it claims to be."""

    model_config = SettingsConfigDict(env_prefix="CLARION_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port the HTTP server listens on.")
    data_dir: Path = Field(
        Path(".clarion"), description="Directory for the embedded SQLite store and local files."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the store; empty means SQLite at DATA_DIR/clarion.db. "
        "Use postgresql://user@host/db for PostgreSQL (psycopg 3).",
    )
    region: str = Field("us-east-1", description="Region written into ARNs.")
    account_id: str = Field("000000000000", description="Account id written into ARNs.")
    max_body_bytes: int = Field(
        7 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    log_level: str = Field("info", description="Log level: " + ", ".join(LOG_LEVELS) + ".")
    aws_endpoint_url: str = Field(
        "", description="AWS endpoint for Kinesis and Firehose event streams; empty means AWS."
    )
    file_roots: list[Path] = Field(
        default_factory=list,
        description="Directories for file:// import sources, export targets and stream "
        "destinations (in the environment a JSON list or PATH-style /a:/b); each app may use "
        "only its own folder ROOT/APP_ID/ in each. Empty turns file locations off.",
    )
    outbound_allow: str = Field(
        "",
        description="Networks besides the public internet that the server may connect to on "
        "a user's behalf (hooks, streams, imports, web push), as comma-separated CIDRs, e.g. "
        "10.1.0.0/16,127.0.0.1; plain http is allowed only to these. Empty allows only public "
        "addresses.",
    )
    stream_file_max_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Size at which a stream file is rotated."
    )
    export_interval_seconds: float = Field(
        1.0, gt=0, description="Pause between event-stream export rounds when idle."
    )
    email_url: str = Field(
        "outbox:",
        description="Where e-mail goes: smtp://, smtps://, ses://REGION or outbox: "
        "(DATA_DIR/outbox/email.jsonl).",
    )
    sms_url: str = Field(
        "outbox:",
        description="Where SMS goes: twilio://, sms-voice://REGION or outbox: "
        "(DATA_DIR/outbox/sms.jsonl).",
    )
    voice_url: str = Field(
        "outbox:",
        description="Where voice messages go: sms-voice://REGION or outbox: "
        "(DATA_DIR/outbox/voice.jsonl).",
    )
    fcm_url: str = Field("", description="FCM HTTP v1 address; empty means Google's own.")
    apns_url: str = Field("", description="APNs address; empty means api.push.apple.com.")
    apns_sandbox_url: str = Field(
        "", description="APNs sandbox address; empty means api.sandbox.push.apple.com."
    )
    vapid_subject: str = Field(
        "",
        description="Contact push services may use about web push (mailto: or https:); empty "
        "means the public URL when it is https, else mailto:postmaster@localhost.",
    )
    public_url: str = Field(
        "",
        description="Where recipients reach this server (e-mail open and click tracking); "
        "empty means http://HOST:PORT.",
    )
    send_timeout_seconds: float = Field(
        10.0, gt=0, description="How long one delivery attempt may take before it counts as failed."
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, description="First pause before a message a provider could not take is retried."
    )
    retry_max_seconds: float = Field(
        60.0, gt=0, description="Longest pause between retries (the pause doubles up to it)."
    )
    retry_give_up_hours: float = Field(
        72.0, gt=0, description="After this long a message still not delivered is a soft bounce."
    )
    config_file: Path | None = Field(
        None, description="TOML file with any of these settings (lower-case keys)."
    )

    @field_validator("account_id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if len(value) != 12 or not value.isdigit():
            raise ValueError("expected 12 digits")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name() if value else "sqlite"
        except ArgumentError:
            backend = ""
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("expected postgresql://USER@HOST/DB, sqlite:///PATH or empty")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(
                "expected an http:// or https:// URL, e.g. https://clarion.example.com"
            )
        return value

    @field_validator("file_roots", mode="before")
    @classmethod
    def _path_list(cls, value: object) -> object:
        """A JSON list, or directories joined by the path separator as in PATH."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError(
                    f"expected a JSON list or directories separated by {os.pathsep!r}"
                ) from None
        return [part for part in value.split(os.pathsep) if part]

    @field_validator("outbound_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def outbound_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.outbound_allow)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver spelled out, so ``postgresql://`` means psycopg 3."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'clarion.db'}"
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.removeprefix("postgres://")
        return url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, _EnvSource(settings_cls)]
        toml_path = os.environ.get("CLARION_CONFIG_FILE")
        if toml_path:
            if not Path(toml_path).is_file():
                raise BadSetting(f"CLARION_CONFIG_FILE is {toml_path!r}; expected a TOML file")
            try:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
            except tomllib.TOMLDecodeError as error:
                raise BadSetting(
                    f"CLARION_CONFIG_FILE {toml_path!r} is not TOML: {error}"
                ) from None
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and TOML file), with explicit overrides winning.

    Raises BadSetting, naming each bad value, instead of pydantic's many-line report."""
    explicit = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**explicit)
    except ValidationError as error:
        raise BadSetting("; ".join(_describe(e, explicit) for e in error.errors())) from None


def _describe(error: ErrorDetails, explicit: Collection[str]) -> str:
    name = str(error["loc"][0])
    where = f"CLARION_{name.upper()}"
    config_file = os.environ.get("CLARION_CONFIG_FILE")
    if config_file and name not in explicit and where not in os.environ:
        where = f"{name} in {config_file}"
    if error["type"] == "extra_forbidden":
        return f"{where}: no such setting"
    expected = error["msg"].removeprefix("Value error, ")
    if expected.startswith("Input should be "):
        expected = "expected " + expected.removeprefix("Input should be ")
    return f"{where} is {_shown(error['input'])}; {expected}"


def _shown(value: object) -> str:
    """The value as given, without a password a URL may carry: the message may be logged."""
    shown = repr(value) if isinstance(value, str) else str(value)
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", shown)
