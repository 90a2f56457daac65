"""Telemetry: devices (SensorThings Things), datastreams, observations, MQTT/HTTP ingestion and rollups.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import DeadLetterReason, DeviceStatus, IngestSource, Resolution
from .events import DeadLetterRecorded, DeviceCameOnline, DeviceWentOffline, ObservationsReceived
from .exceptions import DatastreamNotFound, DeviceNotFound, InvalidDeviceToken
from .ingest import BatchResult, InboundMessage, ingest_messages
from .recent import DatastreamPlace, ObservationPoint, datastream_places, observations_between
from .schemas import DatastreamRead, DeviceRead, Series, SeriesPoint
from .service import choose_resolution, get_datastream, get_device, hourly_means, list_datastreams, series

__all__ = [
    "BatchResult",
    "DatastreamNotFound",
    "DatastreamPlace",
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
    "ObservationPoint",
    "ObservationsReceived",
    "Resolution",
    "Series",
    "SeriesPoint",
    "choose_resolution",
    "datastream_places",
    "get_datastream",
    "get_device",
    "hourly_means",  # the environment module evaluates stations with it right after ingestion
    "ingest_messages",
    "list_datastreams",
    "observations_between",
    "series",
]
