"""Shared building blocks for the msgspec Structs at the API edge."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter

# Ids are PostgreSQL `integer`s: anything outside their range is refused up front.
MAX_ID = 2**31 - 1
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# One line of text: no control characters (PostgreSQL refuses NUL in text).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Free text: line breaks and tabs allowed, other control characters not.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are refused, not ignored."""


class Output(msgspec.Struct, kw_only=True):
    """Base of every response body."""


Phone = Annotated[str, msgspec.Meta(pattern=r"^1[3-9]\d{9}$", description="中国大陆手机号 (mainland mobile number)", examples=["13800138000"])]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, pattern=LINE, description="至少 8 位 (at least 8 characters)")]
DistrictCode = Annotated[str, msgspec.Meta(pattern=r"^44\d{4}$", description="GB/T 2260 广东行政区划代码", examples=["441802"])]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE)]



class Page(Output):
    total: int
    limit: int
    offset: int
