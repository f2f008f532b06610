"""Shared building blocks for the msgspec Structs at the API edge."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are refused, not ignored."""


class Output(msgspec.Struct, kw_only=True):
    """Base of every response body."""


Phone = Annotated[str, msgspec.Meta(pattern=r"^1[3-9]\d{9}$", description="中国大陆手机号 (mainland mobile number)", examples=["13800138000"])]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, description="至少 8 位 (at least 8 characters)")]
DistrictCode = Annotated[str, msgspec.Meta(pattern=r"^44\d{4}$", description="GB/T 2260 广东行政区划代码", examples=["441802"])]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Page(Output):
    total: int
    limit: int
    offset: int
