"""Metrics are for operators: the API does not serve them; their own address does."""

import httpx

from service.observability import serve_metrics
from service.settings import load_settings


async def test_the_api_does_not_serve_metrics_to_anyone(client, actors):
    admin = await actors.admin()
    assert (await client.get("/metrics")).status_code == 404
    assert (await client.get("/metrics", headers=admin.headers)).status_code == 404
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_metrics_are_served_on_their_own_address(client):
    await client.get("/health")  # something to count
    assert serve_metrics("127.0.0.1", 0) is None  # port 0: no metrics listener
    server = _serve_on_a_free_port()
    try:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{server.server_port}/metrics")
        assert response.status_code == 200
        assert "nanyue_requests_total" in response.text and "nanyue_matcher_skipped_rows" in response.text
    finally:
        server.shutdown()
        server.server_close()


def _serve_on_a_free_port():
    import socket

    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            return serve_metrics("127.0.0.1", port)
        except OSError:
            continue
    raise AssertionError("no free port")


def test_the_metrics_address_is_a_setting():
    settings = load_settings(
        {"SECRET_KEY": "s", "DATA_KEY": "A" * 43 + "=", "METRICS_HOST": "10.0.0.5", "METRICS_PORT": "9100"}
    )
    assert (settings.metrics_host, settings.metrics_port) == ("10.0.0.5", 9100)
    defaults = load_settings({"SECRET_KEY": "s", "DATA_KEY": "A" * 43 + "="})
    assert (defaults.metrics_host, defaults.metrics_port) == ("127.0.0.1", 9464)
