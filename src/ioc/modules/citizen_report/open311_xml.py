"""XML rendering of Open311 GeoReport v2 answers: the JSON shape mapped to elements, without a namespace."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

# Wrapper and item element names per list, as the GeoReport v2 spec names them (citizen-reports.md §2.2).
LIST_ITEMS: dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
    "notes": "note",
}
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: Element, name: str, value: Any) -> None:
    """Append `value` under `parent` as element `name` (lists repeat their item element inside it)."""
    node = SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(node, key, item)
    elif isinstance(value, list):
        item_name = LIST_ITEMS.get(name, "item")
        for item in value:
            _fill(node, item_name, item)
    else:
        node.text = _text(value)


def render(root: str, body: Any) -> bytes:
    """Return the UTF-8 XML document of a JSON-shaped answer: a list under `root`, or an object as `root`."""
    if isinstance(body, list):
        element = Element(root)
        item_name = LIST_ITEMS[root]
        for item in body:
            _fill(element, item_name, item)
    else:
        element = Element(root)
        for key, item in body.items():
            _fill(element, key, item)
    return DECLARATION + tostring(element, encoding="unicode").encode("utf-8")
