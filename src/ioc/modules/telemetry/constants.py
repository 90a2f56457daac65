"""Names, limits and closed sets of the telemetry module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "telemetry"
TITLE_VI: Final = "Cảm biến và dữ liệu quan trắc"
TITLE_EN: Final = "Sensor telemetry"

API_PREFIX: Final = "/telemetry"
PAGE_DEVICES: Final = "/telemetry/devices"
PAGE_DEAD_LETTERS: Final = "/telemetry/dead-letters"

SCOPE_READ: Final = "telemetry:read"
SCOPE_ADMIN: Final = "telemetry:admin"

# Device tokens travel in their own header: identity treats every `Authorization: Bearer` as a user API key
# and answers 401 for anything else, before the ingestion route could run.
DEVICE_TOKEN_HEADER: Final = "X-Device-Token"  # noqa: S105 - a header name, not a secret
DEVICE_TOKEN_PREFIX: Final = "dev_"  # noqa: S105 - the public prefix of every device token

# A device code is one MQTT topic level, so it must not contain "/", "+" or "#".
DEVICE_CODE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DATASTREAM_KEY_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"

DEFAULT_OFFLINE_AFTER_MINUTES: Final = 15
# Raw readings are kept two years by default; hourly and daily rollups are kept for good.
DEFAULT_RETENTION_DAYS: Final = 730
MAX_RETENTION_DAYS: Final = 36_500

# Payload limits: a message larger than this is refused whole; dead letters keep at most the first 64 KiB.
MAX_PAYLOAD_BYTES: Final = 1024 * 1024
DEAD_LETTER_PAYLOAD_LIMIT: Final = 64 * 1024
# A dead letter lists at most this many of the rejected readings it stands for.
DEAD_LETTER_READING_LIMIT: Final = 50
# The HTTP answer lists at most this many rejections.
HTTP_REJECTION_LIMIT: Final = 1000

# Clocks of field devices drift; readings further ahead than this are refused, older than EARLIEST_TIME too.
MAX_FUTURE_SKEW: Final = timedelta(minutes=5)
EARLIEST_TIME: Final = datetime(2000, 1, 1, tzinfo=UTC)
# SenML (RFC 8428 §4.5.3): times below 2**28 are relative to now, larger ones are seconds since the epoch.
SENML_RELATIVE_TIME_LIMIT: Final = 2**28

# MQTT ingestion: how many messages one transaction takes, and how long to wait for more. A batch only grows
# past what arrives in the wait while a backlog is drained; the writes per datastream of a batch (its latest
# value, its dirty hour) then serve more readings each, which is what lets ingestion catch up.
MQTT_BATCH_MAX_MESSAGES: Final = 5000
MQTT_BATCH_WAIT_SECONDS: Final = 0.05
# Batches committed at once on PostgreSQL: one is parsed while the database works on the other.
MQTT_INGEST_WORKERS_POSTGRES: Final = 2
MQTT_RECONNECT_MIN_SECONDS: Final = 1
MQTT_RECONNECT_MAX_SECONDS: Final = 10
MQTT_KEEPALIVE_SECONDS: Final = 30
# When the database refuses a batch, the same batch is retried (it is not acknowledged) with this backoff.
MQTT_RETRY_MAX_SECONDS: Final = 30.0

# Ingestion caches devices and datastreams; changes made by another process are seen after at most this long.
REGISTRY_TTL_SECONDS: Final = 10.0

# Query resolution chosen from the requested range ("auto").
RAW_MAX_RANGE: Final = timedelta(days=2)
HOURLY_MAX_RANGE: Final = timedelta(days=90)
DEFAULT_QUERY_RANGE: Final = timedelta(hours=24)
MAX_POINTS: Final = 50_000
MAX_EXPORT_ROWS: Final = 1_000_000

ROLLUP_JOB: Final = "telemetry.rollup"
ROLLUP_EVERY: Final = timedelta(minutes=1)
# Dirty hours recomputed per statement and per job run.
ROLLUP_CHUNK: Final = 100
ROLLUP_MAX_HOURS_PER_RUN: Final = 20_000
RETENTION_JOB: Final = "telemetry.enforce_retention"
RETENTION_EVERY: Final = timedelta(days=1)
PARTITION_JOB: Final = "telemetry.maintain_partitions"
PARTITION_EVERY: Final = timedelta(days=1)
RETENTION_DELETE_CHUNK: Final = 50_000
OFFLINE_JOB: Final = "telemetry.detect_offline"
OFFLINE_EVERY: Final = timedelta(minutes=1)

PAGE_SIZE: Final = 50
MAX_IMPORT_BYTES: Final = 5 * 1024 * 1024
IMPORT_COLUMNS: Final = (
    "device_code",
    "name",
    "lat",
    "lon",
    "datastream_key",
    "observed_property",
    "unit",
    "unit_symbol",
    "valid_min",
    "valid_max",
    "retention_days",
)


class IngestSource(StrEnum):
    """Where a message came from."""

    MQTT = "mqtt"
    HTTP = "http"
    # In-process ingestion (simulator, demo) when no broker is configured: the "embedded equivalent".
    EMBEDDED = "embedded"


class DeadLetterReason(StrEnum):
    """Why a message or reading was refused."""

    MALFORMED_PAYLOAD = "malformed_payload"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_DISABLED = "device_disabled"
    UNKNOWN_KEY = "unknown_key"
    NOT_NUMERIC = "not_numeric"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    EXPIRED = "expired"
    STORAGE_REJECTED = "storage_rejected"


class Resolution(StrEnum):
    """Resolution of a series query."""

    AUTO = "auto"
    RAW = "raw"
    HOUR = "hour"
    DAY = "day"


class DeviceStatus(StrEnum):
    """Whether a device has been heard from recently."""

    ONLINE = "online"
    OFFLINE = "offline"
    NEVER_SEEN = "never_seen"
    DISABLED = "disabled"


class ExportFormat(StrEnum):
    """File formats of a series export."""

    CSV = "csv"
    XLSX = "xlsx"
