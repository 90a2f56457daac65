"""Prometheus counters of telemetry ingestion, on the process registry served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from ioc.core.metrics import REGISTRY

READINGS = Counter("ioc_telemetry_readings_total", "Readings committed to storage", ["source"], registry=REGISTRY)
MESSAGES = Counter(
    "ioc_telemetry_messages_total",
    "Device messages committed (readings or dead letters)",
    ["source"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "ioc_telemetry_dead_letters_total", "Dead letters committed, by reason", ["reason"], registry=REGISTRY
)
BATCH_SECONDS = Histogram(
    "ioc_telemetry_batch_seconds",
    "Time to validate and commit one ingestion batch",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
