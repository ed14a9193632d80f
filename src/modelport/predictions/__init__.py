"""The prediction log and feedback store: where serving and batch write, and monitoring reads.

Write::

    log = PredictionLog(settings.predictions, flush_interval_s=1.0, sample_rate=1.0)
    ids = log.submit(PredictionBatch(endpoint="credit", model="credit", version="3",
                                     inputs=frame, predictions=values, probabilities=proba,
                                     labels=labels, protocol="v2", latency_ms=4.2))
    log.close()   # on SIGTERM, after draining

Read::

    read_predictions(settings.predictions, "credit", since="2026-11-24")
    FeedbackStore(settings.predictions).add("credit", ids, labels=truth)
    joined(settings.predictions, "credit", since="2026-11-24", until="2026-11-25")
    read_resources(settings.predictions, "credit", since="2026-11-24")   # CPU and memory samples
"""

from __future__ import annotations

from modelport.predictions.batchlog import BatchLog
from modelport.predictions.feedback import FeedbackReceipt, FeedbackStore, feedback_table
from modelport.predictions.policy import sampled_in
from modelport.predictions.reader import IdMatch, joined, match_ids, read_predictions, read_resources
from modelport.predictions.records import PredictionBatch, PredictionRecord, Role, new_ids
from modelport.predictions.writer import LogStats, PredictionLog

__all__ = [
    "BatchLog", "FeedbackReceipt", "FeedbackStore", "IdMatch", "LogStats", "PredictionBatch", "PredictionLog",
    "PredictionRecord", "Role", "feedback_table", "joined", "match_ids", "new_ids", "read_predictions",
    "read_resources", "sampled_in",
]
