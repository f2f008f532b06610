"""The shipped language list and the old free-text values it replaces (for data migrations)."""

from __future__ import annotations

import json
from pathlib import Path

from service.taxonomy.text import normalize

DATA = Path(__file__).resolve().parent / "data"


def shipped_languages() -> list[dict]:
    return json.loads((DATA / "languages.json").read_text(encoding="utf-8"))["languages"]


def code_for(value: str, languages: list[dict] | None = None) -> str | None:
    """The code of a language named by code or alias, as the shipped list knows it; None if unknown."""
    key = normalize(value).strip()
    for language in languages or shipped_languages():
        names = [language["code"], language["name_zh"], language["name_en"], *language["aliases"]]
        if key in {normalize(name).strip() for name in names}:
            return language["code"]
    return None


async def recode_languages(table: str, engine=None) -> None:
    """Replace the free-text languages of every row of `table` with codes, keeping their order, without
    repeats. Values the shipped list does not know stay as they were."""
    from piccolo.engine import engine_finder
    from piccolo.querystring import QueryString

    engine = engine or engine_finder()
    rows = await engine.run_querystring(QueryString(f"SELECT DISTINCT unnest(languages) AS value FROM {table}"))
    languages = shipped_languages()
    mapping = {}
    for row in rows:
        code = code_for(row["value"], languages)
        if code is not None and code != row["value"]:
            mapping[row["value"]] = code
    if not mapping:
        return
    await engine.run_querystring(
        QueryString(
            f"""
        UPDATE {table} SET languages = ARRAY(
            SELECT v FROM (
                SELECT coalesce({{}}::jsonb ->> l, l) AS v, min(o) AS o
                FROM unnest(languages) WITH ORDINALITY AS u(l, o) GROUP BY 1
            ) x ORDER BY o)
        WHERE languages && {{}}::varchar[]
        """,
            json.dumps(mapping, ensure_ascii=False),
            list(mapping),
        )
    )
