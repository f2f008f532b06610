"""Reference data: skills (with zh/en aliases), languages, occupations with their levels, districts."""

from piccolo.columns import JSONB, Array, Boolean, DoublePrecision, Integer, Varchar
from piccolo.columns.column_types import Serial
from piccolo.table import Table


class Skill(Table):
    id: Serial
    code = Varchar(length=48, unique=True)
    name_zh = Varchar(length=64)
    name_en = Varchar(length=96)
    category = Varchar(length=16, index=True)
    aliases = Array(base_column=Varchar(length=64))


class Language(Table):
    """A spoken language or dialect; requests and workers name it by code, any alias accepted."""

    id: Serial
    code = Varchar(length=16, unique=True)
    name_zh = Varchar(length=32)
    name_en = Varchar(length=64)
    aliases = Array(base_column=Varchar(length=32))


class Occupation(Table):
    id: Serial
    code = Varchar(length=16, unique=True)
    name_zh = Varchar(length=64)
    levels = Array(base_column=Integer())
    level_names = JSONB()
    work_types = JSONB()
    shortage = Boolean(default=False)


class District(Table):
    """A county-level division of Guangdong (GB/T 2260), with an approximate centre."""

    id: Serial
    code = Varchar(length=6, unique=True)
    name_zh = Varchar(length=32)
    city_code = Varchar(length=6, index=True)
    city_name_zh = Varchar(length=32)
    lat = DoublePrecision()
    lon = DoublePrecision()
