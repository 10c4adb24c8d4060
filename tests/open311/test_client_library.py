"""A real Open311 client from PyPI (`georeport` 0.3.1, which reads but cannot POST) against
the running server, in both formats."""

from __future__ import annotations

import httpx
import pytest
from georeport import GeoReport

from tests.factories.jurisdiction import CITY
from tests.open311.conftest import BASE, Open311World


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_library(client: httpx.Client, server: str, o311: Open311World, fmt: str) -> None:
    posted = o311.post(client, description="路灯不亮", service_code="BJ0103")
    assert posted.status_code == 201, posted.text
    code = posted.json()[0]["service_request_id"]

    geo = GeoReport(f"{server}{BASE}/", jurisdiction=CITY, output_format=fmt)
    services = geo.get_service_list()
    assert "BJ0103" in [s["service_code"] for s in services]

    definition = geo.get_service_definition("BJ0103")
    assert definition["service_code"] == "BJ0103"

    requests = geo.get_service_requests(status="open", service_code="BJ0103")
    # xmltodict gives a dict, not a list, for a single element
    items = requests if isinstance(requests, list) else [requests]
    assert [r["service_request_id"] for r in items] == [code]

    one = geo.get_service_request(code)
    assert one["service_request_id"] == code
    assert one["description"] == "路灯不亮"
    assert one["status"] == "open"


def test_georeport_library_sees_errors(server: str, o311: Open311World) -> None:
    import requests

    geo = GeoReport(f"{server}{BASE}", jurisdiction="elsewhere", output_format="xml")
    with pytest.raises(requests.HTTPError) as info:
        geo.get_service_list()
    assert info.value.response.status_code == 404
