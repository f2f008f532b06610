"""The log lines of real requests carrying personal numbers hold none of them raw."""

import io
import json
import logging
import re

from service.observability import JsonFormatter

RAW = ["8613600000001", "13600000001", "44180219850307102X", "44180219850307102x", "441802198503071026", "13800138000"]


async def test_request_log_lines_hold_no_raw_number(client, actors):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root, access = logging.getLogger(), logging.getLogger("service.access")
    root.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        admin = await actors.admin()
        requests = [
            ("/api/v1/workers?q=8613600000001", {}),
            ("/api/v1/workers?phone=%2B86%20136%200000%200001", {}),
            ("/api/v1/workers?phone=+86+136+0000+0001", {}),
            ("/api/v1/workers?id=44180219850307102Xabc&n=44180219850307102x", {}),
            ("/api/v1/workers", {"X-Request-ID": "lookup-441802198503071026"}),
            ("/api/v1/nothing-here?phone=13800138000", {"X-Request-ID": "u13800138000"}),
        ]
        echoed = []
        for path, headers in requests:
            response = await client.get(path, headers=admin.headers | headers)
            assert response.status_code in (200, 400, 404), response.text
            echoed.append(response.headers["x-request-id"])
    finally:
        root.removeHandler(handler)
        access.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access_lines = [e for e in lines if e["logger"] == "service.access"]
    assert len(access_lines) >= len(requests)  # one line per request, query string included
    assert any("q=86136****0001" in e["msg"] for e in access_lines)
    text = stream.getvalue()
    collapsed = re.sub(r"%20|%2B|[\s+.-]", "", text)  # numbers written with spaces, as in the queries
    for raw in RAW:
        assert raw not in text and raw not in collapsed, raw
    assert "44180219850307102" not in collapsed
    for request_id in echoed[-2:]:
        assert re.fullmatch(r"[0-9a-f]{16}", request_id)  # replaced, not echoed
    assert not any(r in json.dumps([e["request_id"] for e in lines]) for r in RAW)
