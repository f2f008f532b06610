"""Log lines never carry a raw ID or mobile number, however it is written; a client
request id that looks like it carries data is replaced."""

import pytest

from service.observability import sane_request_id
from service.privacy import mask_text

MASKED = {
    "13800138000": "138****8000",
    "q=8613600000001": "q=86136****0001",
    "tel:+8613600000001": "tel:+86136****0001",
    "+86 136 0000 0001": "+86 136****0001",
    "0086-136-0000-0001": "0086-136****0001",
    "phone=%2B86%20136%200000%200001&x=1": "phone=%2B86%20136****0001&x=1",
    "phone=136+0000+0001": "phone=136****0001",
    "441802198503071026": "4418**********1026",
    "44180219850307102X followed by text": "4418**********102X followed by text",
    "44180219850307102Xabc": "4418**********102Xabc",
    "44180219850307102x": "4418**********102x",
    "id=441802+19850307+102X": "id=4418**********102X",
    "身份证44180219850307102X，电话13800138000。": "身份证4418**********102X，电话138****8000。",
    "441802850307102": "4418*******7102",  # first-generation 15-digit number
    # Left alone: not an ID or mobile number.
    "GET /api/v1/workers/12 200 3.1ms": "GET /api/v1/workers/12 200 3.1ms",
    "2026-11-27T05:28:44.491166Z": "2026-11-27T05:28:44.491166Z",
    "order 20261127138001380001": "order 20261127138001380001",
    "12800138000": "12800138000",
}


@pytest.fixture(autouse=True)
def clean_database():
    """The tables below need no database."""


@pytest.mark.parametrize("raw,masked", MASKED.items(), ids=list(MASKED))
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "incoming,kept",
    [
        ("trace-123", True),
        ("4bf92f3577b34da6a3ce929d0e0e4736", True),
        ("123e4567-e89b-12d3-a456-426614174000", True),
        ("req:2026.11.27-01", True),
        ("req-13800138000", False),
        ("44180219850307102X", False),
        ("+8613600000001", False),
        ("a b", False),
        ("x" * 65, False),
        ("", False),
        ("id\x00", False),
    ],
)
def test_client_request_ids_that_could_carry_data_are_replaced(incoming, kept):
    out = sane_request_id(incoming)
    assert (out == incoming) is kept
    if not kept:
        assert len(out) == 16 and mask_text(out) == out


def test_generated_request_ids_never_look_like_personal_data(monkeypatch):
    # token_hex can hold 11 digits in a row; the first draw here is one ("…17535117098").
    draws = iter([bytes.fromhex("2276d17535117098"), bytes.fromhex("4bf92f3577b34da6")])
    monkeypatch.setattr("secrets.token_bytes", lambda n=None: next(draws))
    out = sane_request_id("req-13800138000")
    assert out == "4bf92f3577b34da6" and mask_text(out) == out
