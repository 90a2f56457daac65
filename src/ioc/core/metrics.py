"""Prometheus metrics of the process, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "ioc_http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "ioc_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "ioc_events_published_total", "Domain events published from the outbox", ["name"], registry=REGISTRY
)
JOBS_RUN = Counter("ioc_jobs_run_total", "Job runs by outcome", ["name", "outcome"], registry=REGISTRY)
OUTBOX_PENDING = Gauge("ioc_outbox_pending", "Events written but not yet published", registry=REGISTRY)
JOBS_PENDING = Gauge("ioc_jobs_pending", "Jobs waiting to run", registry=REGISTRY)
JOBS_DEAD = Gauge("ioc_jobs_dead", "Jobs that gave up after their last attempt", registry=REGISTRY)
LIVE_CLIENTS = Gauge("ioc_live_clients", "Browsers connected to the live event stream", registry=REGISTRY)
