"""Telemetry: devices (SensorThings Things), datastreams, observations, MQTT/HTTP ingestion and rollups.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import DeadLetterReason, DeviceStatus, IngestSource, Resolution
from .events import DeadLetterRecorded, DeviceCameOnline, DeviceWentOffline, ObservationsReceived
from .exceptions import DatastreamNotFound, DeviceNotFound, InvalidDeviceToken
from .ingest import BatchResult, InboundMessage, ingest_messages
from .schemas import DatastreamRead, DeviceRead, Series, SeriesPoint
from .service import choose_resolution, get_datastream, get_device, list_datastreams, series

__all__ = [
    "BatchResult",
    "DatastreamNotFound",
    "DatastreamRead",
    "DeadLetterReason",
    "DeadLetterRecorded",
    "DeviceCameOnline",
    "DeviceNotFound",
    "DeviceRead",
    "DeviceStatus",
    "DeviceWentOffline",
    "InboundMessage",
    "IngestSource",
    "InvalidDeviceToken",
    "ObservationsReceived",
    "Resolution",
    "Series",
    "SeriesPoint",
    "choose_resolution",
    "get_datastream",
    "get_device",
    "ingest_messages",
    "list_datastreams",
    "series",
]
