from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.schemas import LINE, DistrictCode, Input, Name, Output, Phone

# The length and content rules are checked by the service (service/accounts/passwords.py),
# so every refusal is a 422 naming the field with a Chinese message.
NewPassword = Annotated[
    str,
    msgspec.Meta(
        max_length=128,
        pattern=LINE,
        description=(
            "至少 10 个字符，不能是常见密码、不能包含手机号、不能全为空白 "
            "(at least 10 characters; not a common password; not containing the phone number; not all whitespace)"
        ),
    ),
]
PhoneCodeValue = Annotated[
    str, msgspec.Meta(pattern=r"^\d{6}$", description="短信验证码 (the code sent by SMS)", examples=["123456"])
]


class PhoneCodeRequest(Input, kw_only=True):
    phone: Phone
    purpose: Literal["register", "claim", "reset_password"]


class AccountCreate(Input, kw_only=True):
    role: Literal["employer", "worker"]
    phone: Phone
    password: NewPassword
    display_name: Name
    phone_code: PhoneCodeValue


class PasswordReset(Input, kw_only=True):
    phone: Phone
    phone_code: PhoneCodeValue
    new_password: NewPassword


class Account(Output, kw_only=True):
    id: int
    role: str
    phone: str  # masked
    display_name: str
    created_at: datetime


class TokenRequest(Input, kw_only=True):
    phone: Annotated[str, msgspec.Meta(max_length=20, pattern=LINE)]
    password: Annotated[str, msgspec.Meta(max_length=128, pattern=LINE)]


class TokenResponse(Output, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int


CreditCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
        description="统一社会信用代码",
        examples=["91441802MA4UABCD1X"],
    ),
]


class AgencyCreate(Input, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=128, pattern=LINE)]
    kind: Literal["housekeeping", "training", "evaluation"]
    district_code: DistrictCode
    credit_code: CreditCode


class AgencyOut(Output, kw_only=True):
    id: int
    name: str
    kind: str
    district_code: str
    credit_code: str
    created_at: datetime


class ApiKeyCreate(Input, kw_only=True):
    scopes: list[Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)]] | None = None
    label: Annotated[str, msgspec.Meta(max_length=64, pattern=LINE)] = ""


class ApiKeyIssued(Output, kw_only=True):
    id: int
    key: str
    prefix: str
    scopes: list[str]
    label: str
    created_at: datetime


class ApiKeyOut(Output, kw_only=True):
    id: int
    prefix: str
    scopes: list[str]
    label: str
    created_at: datetime
    revoked_at: datetime | None
