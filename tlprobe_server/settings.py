"""All configuration, from the environment (prefix TLPROBE_), read once by ``get_settings()``.

``REDIS_URL`` is honoured too (the conventional name); ``TLPROBE_REDIS_URL`` wins when both are set.
A Redis URL may carry a password (redis://:secret@host:6379/0) and TLS (rediss://...). With
``TLPROBE_REDIS_SENTINELS`` set, the URL is not used: the sentinels name the primary
(``tlprobe_server.connections`` makes every client).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .cpu_quota import usable_cpus

DAY = 24 * 3600


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TLPROBE_", frozen=True, extra="ignore")

    redis_url: str = Field("redis://127.0.0.1:6379/0",
                           validation_alias=AliasChoices("TLPROBE_REDIS_URL", "REDIS_URL"))
    redis_timeout: float = Field(5.0, gt=0, description="Socket timeout (s) of every Redis call: a dead Redis is a 503, "
                                                        "not a hang.")
    redis_password: str | None = Field(None, description="Password of Redis (with sentinels: of the primary and its "
                                                         "replicas); a password in the URL wins.")
    redis_sentinels: str = Field("", description="Redis Sentinel: the sentinels, comma-separated host:port (all of them). "
                                                 "Set, the primary is asked of them and followed when it fails over; "
                                                 "the URL is not used.")
    redis_sentinel_service: str = Field("", description="The name the sentinels monitor the primary under.")
    redis_sentinel_password: str | None = Field(None, description="The sentinels' own password (none when unset or "
                                                                  "empty).")
    redis_min_replicas: int = Field(0, ge=0, description="Replicas that must hold an upload (or a batch) before it is "
                                                         "acknowledged (Redis WAIT); fewer within half the Redis timeout "
                                                         "is a 503. 0: no wait (one Redis).")
    queue_name: str = Field("tlprobe", description="RQ queue of interactive jobs (learning curves, GCM jobs); bulk jobs "
                                                 "(phase diagrams and their parts) wait in '<name>-bulk' "
                                                 "(tlprobe_server/queues.py).")

    # lifetimes
    result_ttl: int = Field(30 * DAY, description="How long finished results stay cached (s).")
    artifact_ttl: int = Field(7 * DAY, description="How long trained networks and spectra stay cached (s).")
    job_ttl: int = Field(1 * DAY, description="How long a finished or failed job's record (status, error) and a batch "
                                              "are kept (s).")

    # job limits
    learning_curve_timeout: int = Field(3 * 3600,
                                        description="Seconds before a learning-curve job is failed with reason 'timeout'.")
    gcm_timeout: int = Field(15 * 60, description="Seconds before a GCM job is failed with reason 'timeout'.")
    phase_diagram_timeout: int = Field(15 * 60, description="Seconds for assembling a phase diagram from its parts.")
    diagram_chunk_alphas: int = Field(2, ge=1, description="Alphas per simulation part of a phase diagram.")
    diagram_tiles: int = Field(100, ge=1, description="A phase diagram with more cells packs its theory into about this "
                                                      "many jobs (tiles of about cells / diagram_tiles cells each; at "
                                                      "most about three times as many).")
    max_diagram_work: float = Field(2e14, description="Largest estimated work of one phase diagram (all parts).")
    max_diagram_training_runs: int = Field(
        1200, description="Most scratch/finetune training runs per diagram: cells x seeds x runs per cell and seed (one, or "
                          "one per tuning candidate (and fold): budget.network_runs).")
    job_retries: int = Field(2, ge=0, description="Retries of a job whose worker died under it.")
    max_work: float = Field(5e13, description="Largest estimated floating-point work of one learning curve (about 20 min "
                                              "on two cores).")
    max_memory_bytes: float = Field(3e9, description="Largest estimated peak memory of one job (bytes).")
    max_gcm_work: float = Field(5e10, description="Largest estimated work (iterations x points x spectrum size) of one GCM job.")

    # datasets (MODEL.md section 7)
    dataset_ttl: int = Field(30 * DAY, description="How long an uploaded dataset is kept after its last use (s).")
    max_dataset_upload_bytes: int = Field(64 * 1024 * 1024, description="Largest .npz body of POST /v1/datasets "
                                                                        "(JSON uploads stay under max_body_bytes).")
    max_dataset_samples: int = Field(100_000, ge=2, description="Most samples n of one dataset.")
    max_dataset_input_dim: int = Field(4000, ge=1, description="Largest input dimension N of a dataset.")
    max_dataset_bytes: int = Field(256 * 1024 * 1024, description="Largest stored size of one dataset (inputs as "
                                                                  "float64: 8 n N bytes, plus n for the labels).")
    max_datasets_bytes: int = Field(1024 * 1024 * 1024, description="Largest total size of all stored datasets.")
    max_upload_memory_bytes: int = Field(1024 * 1024 * 1024, ge=0, description="Most memory that the uploads being "
                                         "decoded may hold at once in one API process (their canonical arrays and "
                                         "working buffers, reserved from the shapes they declare); beyond it an upload "
                                         "gets 503 with Retry-After. One dataset of max_dataset_bytes needs about "
                                         "that much plus 15 MB.")

    # HTTP
    max_body_bytes: int = Field(8 * 1024 * 1024, description="Larger request bodies get 413.")
    max_wait: float = Field(60.0, description="Longest long-poll (?wait=) on a job, seconds.")
    port: int = Field(8000, validation_alias=AliasChoices("TLPROBE_PORT", "PORT"))
    hot_results_bytes: int = Field(64 * 1024 * 1024, ge=0, description="Final results each API process keeps in memory "
                                                                         "for 10 s after reading them (bytes; 0: none).")

    # workers
    workers: int = Field(default_factory=usable_cpus, ge=1,
                         description="Worker processes: one per CPU this process may use (its cgroup's quota, its "
                                     "affinity, else the cores).")
    blas_threads: int | None = Field(None, ge=1, description="BLAS threads per worker; default cores // workers.")
    interactive_workers: int = Field(1, ge=0, description="Worker processes besides TLPROBE_WORKERS that take only "
                                                          "interactive jobs, sharing the cores with the others (whose "
                                                          "bulk jobs run niced below them): a small job starts at once "
                                                          "while a diagram runs.")
    max_interactive_streak: int = Field(4, ge=1, description="Most interactive jobs a worker taking both queues runs in a "
                                                             "row while bulk jobs wait; then it takes a bulk job (bulk "
                                                             "work never starves).")
    bulk_niceness: int = Field(10, ge=0, le=19, description="Niceness added to the process running a bulk job: the "
                                                             "kernel gives the cores to interactive jobs first.")
    worker_ttl: int = Field(30, ge=16, description="A worker silent for this long is considered dead; idle workers "
                                                    "wake every worker_ttl - 15 s (s).")
    job_monitoring_interval: int = Field(5, ge=1, description="Heartbeat period of a busy worker (s).")
    heartbeat_margin: int = Field(15, ge=1, description="A running job whose worker missed its heartbeat by this "
                                                         "long is abandoned (RQ's own margin is 60 s) (s).")
    maintenance_interval: int = Field(15, ge=1, description="How often a worker cleans registries (abandoned jobs) (s).")

    # backpressure and access
    max_queued_jobs: int = Field(1000, ge=1, description="Submissions that would queue a new job beyond this many "
                                                          "waiting jobs (both queues) get 503 with Retry-After; bulk "
                                                          "submissions must leave a tenth of it free for interactive ones.")
    api_tokens: str = Field("", description="Comma-separated bearer tokens; when set, every write needs one.")
    admin_tokens: str = Field("", description="Comma-separated bearer tokens that may also cancel any job and delete "
                                              "any dataset outright (whoever submitted or uploaded it).")
    protect_reads: bool = Field(False, description="With tokens set, require one for reads too.")
    rate_limit_per_minute: int = Field(60, ge=0, description="Submissions per token per minute (0: unlimited).")

    # observability
    otlp_endpoint: str = Field("", validation_alias=AliasChoices("TLPROBE_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
                               description="Base URL of an OTLP/HTTP collector (e.g. http://otel-collector:4318): "
                                           "traces are sent to it; empty: tracing off.")

    @model_validator(mode="after")
    def _sentinels_name_their_primary(self) -> "Settings":
        if self.redis_sentinels.strip() and not self.redis_sentinel_service.strip():
            raise ValueError("TLPROBE_REDIS_SENTINELS is set without TLPROBE_REDIS_SENTINEL_SERVICE, the name the "
                             "sentinels monitor the primary under")
        self.sentinel_addresses()  # malformed addresses fail at start-up, not at the first request
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``TLPROBE_REDIS_SENTINELS`` as (host, port) pairs; [] without sentinels. IPv6 hosts in brackets."""
        addresses = []
        for entry in (part.strip() for part in self.redis_sentinels.split(",")):
            if not entry:
                continue
            host, sep, port = entry.rpartition(":")
            host = host.strip("[]")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"TLPROBE_REDIS_SENTINELS: {entry!r} is not host:port")
            addresses.append((host, int(port)))
        return addresses

    def tokens(self) -> list[str]:
        """Every accepted bearer token (the admin tokens included)."""
        return [token.strip() for text in (self.api_tokens, self.admin_tokens) for token in text.split(",") if token.strip()]

    def admins(self) -> list[str]:
        return [token.strip() for token in self.admin_tokens.split(",") if token.strip()]

    def threads_per_worker(self) -> int:
        return self.blas_threads or max(1, usable_cpus() // self.workers)


def environment_variables() -> set[str]:
    """Every environment variable a setting is read from (``TLPROBE_<NAME>`` and the aliases, e.g. ``REDIS_URL``)."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"TLPROBE_{name.upper()}")
        alias = field.validation_alias
        if alias is not None:
            names.update(str(choice) for choice in getattr(alias, "choices", [alias]))
    return names


@lru_cache
def get_settings() -> Settings:
    return Settings()
