"""CAP 1.2 XML of a published warning and the Atom feed of current warnings.

Element order, enumerations and the date-time pattern follow the OASIS CAP 1.2 schema (shared reference
"environment-and-alerts.md" §6.1–6.3): every date-time carries a numeric offset (+07:00), never "Z".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET  # we only build XML here, never parse untrusted input

from ioc.core.time import to_local

from .constants import ATOM_NAMESPACE, CAP_ALERT_PATH, CAP_FEED_PATH, CAP_NAMESPACE, PUBLIC_PATH
from .models import PublicWarning

SENDER_NAME = {
    "vi": "Trung tâm Giám sát, điều hành đô thị thông minh",
    "en": "Intelligent Operations Center",
}
LANGUAGE_TAGS = {"vi": "vi-VN", "en": "en-US"}
# Unit codes are the official administrative codes of the General Statistics Office (mã ĐVHC).
GEOCODE_NAME = "VN-GSO"


@dataclass(frozen=True)
class CapContext:
    """Where the messages come from: the public address and the sender id."""

    base_url: str
    sender: str


def cap_time(value: datetime) -> str:
    """Return a CAP date-time: local (Asia/Ho_Chi_Minh) with a numeric offset and no fraction."""
    return to_local(value).replace(microsecond=0).isoformat()


def polygon_text(ring: Sequence[Sequence[float]]) -> str:
    """Turn a GeoJSON ring of [lon, lat] into CAP "lat,lon" pairs, closed."""
    points = [(round(float(lat), 6), round(float(lon), 6)) for lon, lat, *_ in ring]
    if points and points[0] != points[-1]:
        points.append(points[0])
    return " ".join(f"{lat:g},{lon:g}" for lat, lon in points)


def alert_url(base_url: str, identifier: str) -> str:
    """Return the address of a warning's CAP XML."""
    return f"{base_url.rstrip('/')}{CAP_ALERT_PATH}/{identifier}.xml"


def reference_text(sender: str, identifier: str, sent: datetime) -> str:
    """Return one CAP `references` triplet."""
    return f"{sender},{identifier},{cap_time(sent)}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _area(info: ET.Element, area: dict[str, Any], lang: str) -> None:
    element = _sub(info, "area")
    name = area.get("name_en") if lang == "en" and area.get("name_en") else area.get("name")
    _sub(element, "areaDesc", str(name or area.get("code") or "-"))
    for ring in area.get("rings") or []:
        _sub(element, "polygon", polygon_text(ring))
    if area.get("code"):
        geocode = _sub(element, "geocode")
        _sub(geocode, "valueName", GEOCODE_NAME)
        _sub(geocode, "value", str(area["code"]))


def _info(alert: ET.Element, warning: PublicWarning, lang: str, ctx: CapContext) -> None:
    english = lang == "en"
    info = _sub(alert, "info")
    _sub(info, "language", LANGUAGE_TAGS[lang])
    _sub(info, "category", warning.category)
    _sub(info, "event", warning.event_en if english else warning.event_vi)
    if warning.response_type:
        _sub(info, "responseType", warning.response_type)
    _sub(info, "urgency", warning.urgency)
    _sub(info, "severity", warning.severity)
    _sub(info, "certainty", warning.certainty)
    if warning.effective_at is not None:
        _sub(info, "effective", cap_time(warning.effective_at))
    _sub(info, "expires", cap_time(warning.expires_at))
    _sub(info, "senderName", SENDER_NAME[lang])
    _sub(info, "headline", warning.headline_en if english else warning.headline_vi)
    _sub(info, "description", warning.description_en if english else warning.description_vi)
    instruction = warning.instruction_en if english else warning.instruction_vi
    if instruction:
        _sub(info, "instruction", instruction)
    _sub(info, "web", f"{ctx.base_url.rstrip('/')}{PUBLIC_PATH}/{warning.id}")
    for area in warning.areas:
        _area(info, area, lang)


def build_alert(warning: PublicWarning, ctx: CapContext, referenced: PublicWarning | None = None) -> bytes:
    """Return the CAP 1.2 XML document of a published warning (Vietnamese and English `info` blocks)."""
    if warning.identifier is None or warning.sent_at is None:
        raise ValueError("only published warnings have a CAP message")
    alert = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    _sub(alert, "identifier", warning.identifier)
    _sub(alert, "sender", ctx.sender)
    _sub(alert, "sent", cap_time(warning.sent_at))
    _sub(alert, "status", warning.status)
    _sub(alert, "msgType", warning.msg_type)
    _sub(alert, "scope", "Public")
    if warning.status == "Exercise":
        _sub(alert, "note", "Diễn tập / Exercise")
    if referenced is not None and referenced.identifier and referenced.sent_at:
        _sub(alert, "references", reference_text(ctx.sender, referenced.identifier, referenced.sent_at))
    _info(alert, warning, "vi", ctx)
    _info(alert, warning, "en", ctx)
    body: bytes = ET.tostring(alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NAMESPACE)
    return body


def _atom(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    # Plain names under a root carrying xmlns: ElementTree's default_namespace refuses unqualified attributes.
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def build_feed(warnings: Sequence[PublicWarning], ctx: CapContext, now: datetime, lang: str = "vi") -> bytes:
    """Return the Atom feed of current warnings, each entry linking to its CAP message."""
    base = ctx.base_url.rstrip("/")
    feed = ET.Element("feed", {"xmlns": ATOM_NAMESPACE})
    _atom(feed, "id", f"{base}{CAP_FEED_PATH}")
    _atom(feed, "title", "Cảnh báo công cộng đang hiệu lực / Current public warnings")
    newest = max((w.sent_at for w in warnings if w.sent_at), default=now)
    _atom(feed, "updated", cap_time(newest))
    _atom(feed, "link", rel="self", href=f"{base}{CAP_FEED_PATH}", type="application/atom+xml")
    _atom(feed, "link", rel="alternate", href=f"{base}{PUBLIC_PATH}", type="text/html")
    author = _atom(feed, "author")
    _atom(author, "name", SENDER_NAME[lang])
    for warning in warnings:
        if warning.identifier is None or warning.sent_at is None:
            continue
        entry = _atom(feed, "entry")
        url = alert_url(base, warning.identifier)
        _atom(entry, "id", url)
        _atom(entry, "title", warning.headline_en if lang == "en" else warning.headline_vi)
        _atom(entry, "updated", cap_time(warning.sent_at))
        _atom(entry, "published", cap_time(warning.sent_at))
        _atom(entry, "link", rel="alternate", href=url, type="application/cap+xml")
        _atom(entry, "link", rel="related", href=f"{base}{PUBLIC_PATH}/{warning.id}", type="text/html")
        _atom(entry, "summary", warning.description_en if lang == "en" else warning.description_vi)
        _atom(entry, "category", term=warning.category, label=warning.severity)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
