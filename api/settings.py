"""Service configuration, from LINEAGE_* environment variables or arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be told at start."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8642, ge=1, le=65535)
    data_dir: Path = Path("data")
    sqlite_synchronous: str = "NORMAL"
    # Interactive queries (the explorer) answer fast with few hops; audit and impact may go far.
    interactive_max_hops: int = Field(10, ge=0, le=100)
    audit_max_hops: int = Field(100, ge=0, le=100)
    query_deadline_seconds: float = Field(10.0, gt=0)
    max_body_bytes: int = Field(16 * 1024 * 1024, gt=0)
    log_level: str = "INFO"
    # json: one object a line, for log collectors; text: for a person; auto: text at a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    # LLM traces: prompt, answer and document text is kept as sha256 + length unless this is set.
    keep_llm_text: bool = False
    # Per caller (token, or address when auth is off), per process: a token bucket. 0 turns it off.
    rate_limit_per_second: float = Field(50.0, ge=0)
    rate_limit_burst: int = Field(100, ge=1)
    # Neo4j: the production store. Unset, the embedded store under data_dir is used.
    neo4j_uri: str | None = None
    neo4j_user: str | None = None
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    # MLflow: webhooks (POST /webhooks/mlflow) re-read objects from the tracking server; the poller
    # (off unless a period is set) reconciles the whole registry every so many seconds.
    mlflow_tracking_uri: str | None = None
    mlflow_webhook_secret: SecretStr | None = None
    mlflow_webhook_max_age_seconds: int = Field(300, gt=0)
    mlflow_poll_seconds: float | None = Field(None, gt=0)
    mlflow_timeout_seconds: float = Field(10.0, gt=0)
    # The Feast project a `feast.feature_service` tag without a "<project>/" prefix belongs to.
    feast_project: str | None = None

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_synchronous(cls, value: str) -> str:
        if value.upper() not in {"NORMAL", "FULL", "EXTRA"}:
            msg = "must be NORMAL, FULL or EXTRA (OFF would lose acknowledged writes)"
            raise ValueError(msg)
        return value.upper()

    @field_validator("neo4j_password")
    @classmethod
    def _not_a_default_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() in {"neo4j", "password", "changeme"}:
            msg = "is a well-known default; set a real password (or none, for a server with auth off)"
            raise ValueError(msg)
        return value
