"""Form data → the API's msgspec Structs, and errors → Chinese messages next to each field.

A form is decoded into the same Struct the JSON API takes, so a page cannot accept what
the API refuses. Empty inputs count as absent; list fields take every value of the name;
dotted names (`location.lat`) build nested objects.
"""

from __future__ import annotations

import re
import typing
from datetime import date
from typing import Any, TypeVar

import msgspec
from litestar.datastructures import FormMultiDict

from service.errors import AppError

S = TypeVar("S", bound=msgspec.Struct)

_AT = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


class FormErrors(Exception):
    """Per-field messages (field name → Chinese text) and an optional message for the whole form."""

    def __init__(self, fields: dict[str, str] | None = None, message: str = "") -> None:
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in (fields or {}).items()))
        self.fields = fields or {}
        self.message = message


def _is_list(annotation: Any) -> bool:
    for candidate in _flatten(annotation):
        if typing.get_origin(candidate) is list or candidate is list:
            return True
    return False


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_flatten(arg))
        return out
    return [annotation]


def _is_bool(annotation: Any) -> bool:
    return any(c is bool for c in _flatten(annotation))


def form_to_dict(form: FormMultiDict, struct: type[msgspec.Struct], *, only: set[str] | None = None) -> dict[str, Any]:
    """The form's values for `struct`'s fields, as plain values (strings still; `convert` types them)."""
    hints = typing.get_type_hints(struct, include_extras=True)
    out: dict[str, Any] = {}
    for name in struct.__struct_fields__:
        if only is not None and name not in only:
            continue
        annotation = hints[name]
        if _is_list(annotation):
            values = [v.strip() for v in form.getall(name, []) if isinstance(v, str) and v.strip()]
            if name in form or values:
                out[name] = values
            continue
        if _is_bool(annotation) and not any(t is str for t in _flatten(annotation)):
            out[name] = form.get(name) in ("on", "true", "1", "yes")
            continue
        nested = {
            k.split(".", 1)[1]: v.strip()
            for k, v in form.items()
            if k.startswith(name + ".") and isinstance(v, str) and v.strip()
        }
        if nested:
            out[name] = nested
            continue
        value = form.get(name)
        if isinstance(value, str) and value.strip() != "":
            out[name] = value.strip()
    return out


def decode_form(form: FormMultiDict, struct: type[S], *, extra: dict[str, Any] | None = None) -> S:
    data = form_to_dict(form, struct)
    data.update(extra or {})
    return convert(data, struct)


def convert(data: dict[str, Any], struct: type[S]) -> S:
    """`msgspec.convert`, with every refusal (types, bounds, the Structs' own checks such as
    date windows) as per-field messages."""
    try:
        return msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        raise FormErrors(validation_fields(str(exc))) from None
    except AppError as exc:
        raise app_error_fields(exc) from None


def validation_fields(message: str) -> dict[str, str]:
    missing = _MISSING.search(message)
    if missing:
        parent = _AT.search(message)
        name = f"{parent.group(1)}.{missing.group(1)}" if parent and parent.group(1) else missing.group(1)
        return {name: "必填 (required)"}
    at = _AT.search(message)
    name = at.group(1) if at and at.group(1) else "form"
    name = re.sub(r"\[\d+\]$", "", name)
    return {name: translate(message)}


def translate(message: str) -> str:
    text = message.split(" - at ")[0]
    if m := re.search(r"length >= (\d+)", text):
        return (
            f"至少 {m.group(1)} 个字符 (at least {m.group(1)} characters)"
            if "str" in text
            else f"至少选择 {m.group(1)} 项 (choose at least {m.group(1)})"
        )
    if m := re.search(r"length <= (\d+)", text):
        return (
            f"最多 {m.group(1)} 个字符 (at most {m.group(1)} characters)"
            if "str" in text
            else f"最多 {m.group(1)} 项 (at most {m.group(1)})"
        )
    if m := re.search(r">= (-?[\d.]+)", text):
        return f"不能小于 {m.group(1)} (must be at least {m.group(1)})"
    if m := re.search(r"<= (-?[\d.]+)", text):
        return f"不能大于 {m.group(1)} (must be at most {m.group(1)})"
    if "Invalid enum value" in text or "Invalid value" in text:
        return "请从选项中选择 (choose one of the options)"
    if "`int`" in text:
        return "请填写整数 (a whole number)"
    if "`float`" in text:
        return "请填写数字 (a number)"
    if "date" in text:
        return "日期格式应为 年-月-日 (a date, YYYY-MM-DD)"
    if "pattern" in text:
        return "格式不正确 (wrong format)"
    return "格式不正确 (invalid value)"


def app_error_fields(exc: AppError) -> FormErrors:
    """A service's error, shown next to the fields it names (or above the form)."""
    if exc.fields:
        fields = {re.sub(r"\[\d+\]$", "", k): chinese_first(v) for k, v in exc.fields.items()}
        return FormErrors(fields, message="" if exc.status_code == 422 else exc.detail)
    return FormErrors({}, message=exc.detail)


def chinese_first(text: str) -> str:
    if text == "already registered":
        return "已登记 (already registered)"
    if re.match(r"^[\x00-\x7f]*$", text) and text.startswith("unknown"):
        return "未知的值 (unknown value): " + text.split(":", 1)[-1].strip()
    if text == "must not exceed wage_max":
        return "不能高于最高薪资 (must not exceed the maximum)"
    return text


def iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))
