from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from service.schemas import LINE, Input, Output


class WebhookCreate(Input, kw_only=True):
    url: Annotated[
        str, msgspec.Meta(min_length=8, max_length=500, pattern=LINE, examples=["https://erp.example.cn/hooks/nanyue"])
    ]
    event_types: Annotated[list[Annotated[str, msgspec.Meta(max_length=48)]], msgspec.Meta(min_length=1, max_length=20)]


class Webhook(Output, kw_only=True):
    id: int
    url: str
    event_types: list[str]
    created_at: datetime


class WebhookCreated(Webhook, kw_only=True):
    secret: str  # shown once: verify X-Nanyue-Signature with it


class Delivery(Output, kw_only=True):
    id: int
    event: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
