"""How the online server behaves: batching bounds, limits, deadlines; one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LogConfig:
    """Where and how the server records its predictions (the prediction log)."""

    #: the log's folder (``$MODELPORT_HOME/predictions``)
    root: str
    sample_rate: float = 1.0
    #: input columns never stored
    exclude: tuple[str, ...] = ()
    #: input columns stored as salted sha256 digests
    hash: tuple[str, ...] = ()
    salt: str = ""
    #: at most this much is lost if the process is killed (SIGKILL); SIGTERM loses nothing
    flush_interval_s: float = 1.0
    #: rows queued for writing before new ones are dropped (and counted)
    max_queue_rows: int = 100_000
    #: how often each server process samples its CPU and memory into the log (None: never)
    resource_interval_s: float | None = 10.0


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server process; the CLI builds it from its options."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: most rows one model call receives (a single larger request still goes through alone).
    max_batch_size: int = 64
    #: longest a request waits for others to join its batch, only while others are on their way.
    max_batch_delay_ms: float = 2.0
    #: requests queued per model version before new ones get 503 (backpressure).
    max_queue: int = 1024
    #: bodies above this many bytes get 413.
    max_body_bytes: int = 32 * 1024 * 1024
    #: a request without its prediction after this many seconds gets 504.
    request_timeout_s: float = 30.0
    #: what 503 answers put in Retry-After.
    retry_after_s: int = 1
    #: bodies above this many bytes are decoded and validated off the event loop.
    offload_bytes: int = 64 * 1024
    #: a model whose calls average under this many ms runs on the event loop (no thread, no GIL
    #: contention); slower ones run on a model thread of their own; 0 always uses the thread.
    inline_below_ms: float = 10.0
    #: a model call running longer than this makes the process not live (its worker gets replaced).
    stall_timeout_s: float = 120.0
    #: on SIGTERM, how long requests in flight may take to finish before the process exits anyway.
    drain_timeout_s: float = 30.0
    #: record every prediction (None: no prediction log)
    log: LogConfig | None = field(default=None)
    #: requests waiting for their shadow copies; more are dropped (and counted), never waited for
    shadow_queue: int = 256
    #: when set, every prediction request must carry ``Authorization: Bearer <token>`` (else 401)
    inference_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if self.max_batch_delay_ms < 0:
            raise ValueError("max_batch_delay_ms must not be negative")
        if self.max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if self.request_timeout_s <= 0:
            raise ValueError("request_timeout_s must be positive")
        if self.stall_timeout_s <= 0:
            raise ValueError("stall_timeout_s must be positive")
        if self.shadow_queue < 1:
            raise ValueError("shadow_queue must be at least 1")
        if self.drain_timeout_s < 0:
            raise ValueError("drain_timeout_s must not be negative")
