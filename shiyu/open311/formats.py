"""GeoReport v2 wire formats: the path suffix picks XML (mandatory) or JSON (the Spark-convention
mapping of the XML: top-level lists are arrays, discovery and definitions are objects)."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from starlette.responses import Response


class Format(StrEnum):
    json = "json"
    xml = "xml"


MEDIA_TYPES = {
    Format.json: "application/json; charset=utf-8",
    Format.xml: "text/xml; charset=utf-8",
}
#: SeeClickFix's validator wants discovery without a charset; the XML declaration still names
#: UTF-8, and JSON is UTF-8 by definition.
BARE_MEDIA_TYPES = {Format.json: "application/json", Format.xml: "text/xml"}

#: element name of one item of each list, as in the spec's XML examples
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

# characters XML 1.0 cannot carry at all, even escaped: dropped so the document stays parseable
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse_format(value: str) -> Format | None:
    try:
        return Format(value)
    except ValueError:
        return None


def format_of_path(path: str) -> Format:
    """For error bodies: JSON when the path asks for it, XML (the mandatory one) otherwise."""
    return Format.json if path.endswith(".json") else Format.xml


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _add(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _add(element, ITEM_TAGS[tag], item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """ElementTree escapes markup in text, so hostile strings come out as inert text."""
    element = ET.Element(root)
    _fill(element, root, value)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def render(
    fmt: Format, root: str, value: Any, *, status_code: int = 200, bare_type: bool = False
) -> Response:
    """`root` names the XML document element (`services`, `service_requests`, ...)."""
    if fmt is Format.json:
        content = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    else:
        content = to_xml(root, value)
    media = (BARE_MEDIA_TYPES if bare_type else MEDIA_TYPES)[fmt]
    return Response(content, status_code=status_code, headers={"content-type": media})


def render_errors(fmt: Format, status_code: int, descriptions: list[str]) -> Response:
    """`[{"code","description"}]` / `<errors><error>…</error></errors>`; the code is the HTTP
    status, as in the spec's examples."""
    errors = [{"code": status_code, "description": d} for d in descriptions]
    return render(fmt, "errors", errors, status_code=status_code)
