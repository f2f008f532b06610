"""Importing many workers from a spreadsheet: parse, check every row with the same service
that registers one worker (inside a transaction that is rolled back), preview, then save.

Nothing is saved from a file with errors unless the clerk chooses to import only its good
rows; those are then saved in one transaction (all of them, or none if one fails after all).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import msgspec

from service.accounts.guards import Principal
from service.errors import AppError
from service.registry import services as registry
from service.registry.schemas import WorkerCreate
from service.registry.tables import Worker
from service.taxonomy.rules import CATEGORY_BY_NAME
from service.web.forms import FormErrors, chinese_first, convert

MAX_ROWS = 500
MAX_BYTES = 2 * 1024 * 1024

# Column headings accepted (Chinese as on the template, or the API's field names).
HEADINGS = {
    "姓名": "real_name",
    "性别": "gender",
    "出生日期": "birth_date",
    "身份证号": "id_number",
    "手机号": "phone",
    "服务区县": "district_codes",
    "服务类别": "categories",
    "技能": "skills",
    "从业年限": "experience_years",
    "期望工资最低": "wage_min",
    "期望工资最高": "wage_max",
    "工资单位": "wage_unit",
    "住家": "live_in",
    "可上岗日期": "available_from",
    "语言": "languages",
}
FIELD_LABELS = {v: k for k, v in HEADINGS.items()}
TEMPLATE_HEADER = list(HEADINGS)
LIST_FIELDS = {"district_codes", "categories", "skills", "languages"}
_SPLIT = re.compile(r"[;；、|/，,\s]+")
GENDERS = {"女": "female", "男": "male"}
CATEGORIES = CATEGORY_BY_NAME  # 母婴 → maternity
UNITS = {"月": "month", "每月": "month", "小时": "hour", "每小时": "hour", "单": "term", "每单": "term"}
YES = {"是", "住家", "yes", "true", "1", "y"}


class ImportFileError(Exception):
    pass


class _DryRun(Exception):
    pass


def read_table(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or .xlsx file as heading → text."""
    if len(content) > MAX_BYTES:
        raise ImportFileError("文件超过 2 MB (the file is larger than 2 MB)")
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError("无法识别文件编码，请另存为 UTF-8 的 CSV (save the file as UTF-8 CSV)")
        rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any((c or "").strip() for c in r)]
    if not rows:
        raise ImportFileError("文件是空的 (the file is empty)")
    header = [(h or "").strip() for h in rows[0]]
    known = [HEADINGS.get(h, h if h in HEADINGS.values() else None) for h in header]
    if not {"real_name", "id_number"} <= set(known):
        raise ImportFileError("第一行须是表头，至少包含“姓名”和“身份证号” (the first row must be the headings)")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行 (at most {MAX_ROWS} rows at a time)")
    out = []
    for raw in rows[1:]:
        out.append(
            {
                field: str(raw[i]).strip() if i < len(raw) and raw[i] is not None else ""
                for i, field in enumerate(known)
                if field
            }
        )
    return out


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise ImportFileError("无法读取 Excel 文件 (the Excel file cannot be read)") from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(
            ["" if v is None else (v.date().isoformat() if hasattr(v, "date") and callable(v.date) else v) for v in row]
        )
    book.close()
    return rows


def to_body(row: dict[str, str], taxonomy) -> dict[str, Any]:
    """Spreadsheet words → the API's values (codes, booleans, lists)."""
    names = {d["name_zh"]: code for code, d in taxonomy.districts.items()}
    skill_names = {s["name_zh"]: code for code, s in taxonomy.skills.items()}
    body: dict[str, Any] = {}
    for field, value in row.items():
        if value == "":
            continue
        if field in LIST_FIELDS:
            items = [v for v in _SPLIT.split(value) if v]
            if field == "district_codes":
                items = [names.get(v, v) for v in items]
            elif field == "categories":
                items = [CATEGORIES.get(v, v) for v in items]
            elif field == "skills":
                items = [skill_names.get(v, v) for v in items]
            body[field] = items
        elif field == "gender":
            body[field] = GENDERS.get(value, value)
        elif field == "wage_unit":
            body[field] = UNITS.get(value, value)
        elif field == "live_in":
            body[field] = value.lower() in YES
        elif field == "birth_date" or field == "available_from":
            body[field] = value[:10].replace("/", "-").replace(".", "-")
        else:
            body[field] = value
    return body


def _label(field: str) -> str:
    return FIELD_LABELS.get(field.split(".")[0].split("[")[0], field)


async def check_rows(principal: Principal, rows: list[dict[str, str]], *, cipher, taxonomy, save: bool) -> list[dict]:
    """Each row: its values and either its errors or, when saved, the new worker's id.

    With `save=False` every row is registered inside one transaction that is then rolled
    back: the preview runs exactly the checks a real registration runs (ID number, birth
    date and gender against it, age, districts, skills, a second registration of the same
    person, also within the file). With `save=True` all rows are saved or none."""
    results: list[dict] = []
    try:
        async with Worker._meta.db.transaction() as tx:
            for n, row in enumerate(rows, start=2):
                result: dict[str, Any] = {"line": n, "row": row, "errors": {}, "worker_id": None}
                results.append(result)
                try:
                    data = convert(to_body(row, taxonomy), WorkerCreate)
                except FormErrors as exc:
                    result["errors"] = {_label(k) if k != "form" else "整行": v for k, v in exc.fields.items()} or {
                        "整行": exc.message
                    }
                    continue
                savepoint = await tx.savepoint()
                try:
                    created = await registry.create_worker(
                        principal, msgspec.structs.asdict(data) | {"location": None}, cipher=cipher, taxonomy=taxonomy
                    )
                    result["worker_id"] = created["id"]
                    await savepoint.release()
                except AppError as exc:
                    await savepoint.rollback_to()
                    fields = exc.fields or {"": exc.detail}
                    result["errors"] = {_label(k) if k else "整行": chinese_first(v) for k, v in fields.items()}
            if not save or any(r["errors"] for r in results):
                raise _DryRun()
    except _DryRun:
        for r in results:
            r["worker_id"] = None  # rolled back
    return results
