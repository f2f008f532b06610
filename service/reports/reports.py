"""The bureau's reports, computed in PostgreSQL: one statement per report.

Each report groups by any combination of its dimensions with `GROUPING SETS`: the full
combination, each dimension alone (when more than one is asked) and the grand total, so
every subtotal comes from the same rows as the detail and the numbers add up. A row's
`group` lists the dimensions it is grouped by; the others are totals over them.

Targets attach to rows grouped only by dimensions a target can name (programme,
district, institution) when the period lies within one year; completion is
actual / target as a percentage with two decimals, as the bureau writes it (137.43).

Who sees what: the bureau everything; a training institution only its own trainings and
claims; an evaluation institution only its own certificates; a housekeeping company only
the trainings of workers bound to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.accounts.guards import Principal, Role
from service.database import read_pool
from service.errors import Forbidden, InvalidField
from service.registry.domain import today_local


@dataclass(frozen=True)
class Measure:
    key: str
    label: str


@dataclass(frozen=True)
class ReportSpec:
    name: str
    dimensions: dict[str, str]  # dimension -> its label
    measures: list[Measure]
    targets: dict[str, str]  # target metric -> the measure it is compared with
    target_keys: dict[str, str]  # target column -> dimension


TRAINING_EMPLOYMENT = ReportSpec(
    name="training-employment",
    dimensions={
        "programme": "项目",
        "training_type": "培训类型",
        "institution": "培训机构",
        "district": "区县",
        "month": "结业月份",
    },
    measures=[
        Measure("trained", "培训人次"),
        Measure("trained_people", "培训人数"),
        Measure("certified", "取证人次"),
        Measure("placed_30d", "30天内上岗"),
        Measure("placed_90d", "90天内上岗"),
        Measure("placed_180d", "180天内上岗"),
        Measure("median_days_to_placement", "首次上岗天数中位数"),
        Measure("median_monthly_wage", "月薪中位数(元)"),
        Measure("placed_6m_ago", "上岗满6个月人次"),
        Measure("retained_6m", "6个月后仍在岗"),
        Measure("avg_rating", "首次上岗雇主平均评分"),
    ],
    targets={"trained": "trained", "certified": "certified", "placed": "placed_180d"},
    target_keys={"programme_code": "programme", "district_code": "district", "institution": "institution"},
)

CERTIFICATES = ReportSpec(
    name="certificates",
    dimensions={
        "kind": "证书类别",
        "occupation": "职业",
        "level": "等级",
        "evaluator": "评价机构",
        "district": "区县",
        "month": "发证月份",
    },
    measures=[
        Measure("certificates", "新增证书"),
        Measure("people", "取证人数"),
        Measure("senior", "新增高级工及以上"),
    ],
    targets={"certified": "certificates", "senior": "senior"},
    target_keys={"district_code": "district", "institution": "evaluator"},
)

MONEY = ReportSpec(
    name="subsidies",
    dimensions={"programme": "项目", "institution": "培训机构", "quarter": "季度", "month": "申领月份"},
    measures=[
        Measure("claims", "申领笔数"),
        Measure("claimed", "申领金额(元)"),
        Measure("approved", "核准金额(元)"),
        Measure("paid", "已拨付(元)"),
        Measure("recovered", "已追回(元)"),
        Measure("refused", "不予核准(元)"),
    ],
    targets={},
    target_keys={},
)

REPORT_WORK_MEM = "64MB"
INTEGER_DIMENSIONS = frozenset({"institution", "level", "evaluator"})
REPORTS = {spec.name: spec for spec in (TRAINING_EMPLOYMENT, CERTIFICATES, MONEY)}


def grouping_sets(dims: list[str]) -> str:
    sets = [tuple(dims)] if dims else []
    if len(dims) > 1:
        sets += [(d,) for d in dims]
    sets.append(())
    return ", ".join("(" + ", ".join(s) + ")" for s in sets)


def _parse_group_by(spec: ReportSpec, group_by: list[str]) -> list[str]:
    dims = list(dict.fromkeys(group_by))
    unknown = [d for d in dims if d not in spec.dimensions]
    if unknown:
        raise InvalidField(
            "group_by",
            f"未知的分组 (unknown dimensions): {', '.join(unknown)}; 可选 (choose from): {', '.join(spec.dimensions)}",
        )
    return dims


def _target_year(date_from: date, date_to: date) -> int | None:
    return date_from.year if date_from.year == date_to.year else None


class _Params:
    """Numbered parameters for asyncpg, collected as the statement is built."""

    def __init__(self) -> None:
        self.values: list = []

    def __call__(self, value) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _dimension_columns(spec: ReportSpec, dims: list[str]) -> tuple[str, str]:
    """SELECT list of the aggregate (each dimension, or NULL, and its grouping flag) and the
    GROUP BY clause."""
    select = []
    for dim in spec.dimensions:
        if dim in dims:
            select.append(f"{dim}, GROUPING({dim}) AS g_{dim}")
        else:
            cast = "int" if dim in INTEGER_DIMENSIONS else "text"
            select.append(f"NULL::{cast} AS {dim}, 1 AS g_{dim}")
    group = f"GROUP BY GROUPING SETS ({grouping_sets(dims)})"
    return ", ".join(select), group


def _target_joins(spec: ReportSpec, p: _Params, year: int | None) -> tuple[str, str]:
    if not spec.targets:
        return "", ""
    keyed = set(spec.target_keys.values())
    only_keyed = " AND ".join(f"agg.g_{d} = 1" for d in spec.dimensions if d not in keyed) or "true"
    year_param = p(year)
    joins, select = [], []
    for metric, measure in spec.targets.items():
        alias = f"t_{metric}"
        match = " AND ".join(
            f"{alias}.{column} IS NOT DISTINCT FROM (CASE WHEN agg.g_{dim} = 0 THEN agg.{dim} END)"
            for column, dim in spec.target_keys.items()
        )
        missing = [c for c in ("programme_code", "district_code", "institution") if c not in spec.target_keys]
        match += "".join(f" AND {alias}.{c} IS NULL" for c in missing)
        joins.append(
            f"LEFT JOIN bureau_target {alias} ON {alias}.year = {year_param}::int "
            f"AND {alias}.metric = '{metric}' AND {only_keyed} AND {match}"
        )
        select.append(
            f"{alias}.target AS {metric}_target, "
            f"round(agg.{measure} * 100.0 / {alias}.target, 2)::float AS {metric}_completion_pct"
        )
    return " ".join(joins), ", " + ", ".join(select)


def _scope_training(principal: Principal, p: _Params) -> str:
    if principal.is_admin:
        return ""
    if principal.role == Role.TRAINING:
        return f" AND o.institution = {p(principal.agency_id)}"
    if principal.role == Role.HOUSEKEEPING:
        return (
            f" AND o.worker IN (SELECT id FROM worker WHERE agency = {p(principal.agency_id)} "
            "AND agency_confirmed_at IS NOT NULL)"
        )
    raise Forbidden("此报表不对该机构开放 (this report is not open to this kind of agency)")


def training_employment_sql(
    principal: Principal, dims: list[str], date_from: date, date_to: date, on: date
) -> tuple[str, list]:
    spec, p = TRAINING_EMPLOYMENT, _Params()
    scope = _scope_training(principal, p)
    dim_select, group = _dimension_columns(spec, dims)
    target_joins, target_select = _target_joins(spec, p, _target_year(date_from, date_to))
    on_p, from_p, to_p = p(on), p(date_from), p(date_to)
    # training_outcome holds each verified training's facts, kept current by triggers
    # (migration reports_2026_11_27t17_00_00); only what depends on today is computed here.
    sql = f"""
    WITH outcome AS (
        SELECT o.worker, o.programme COLLATE "C" AS programme, o.training_type COLLATE "C" AS training_type,
               o.institution, coalesce(a.district_code, '') COLLATE "C" AS district,
               to_char(o.finished_on, 'YYYY-MM') COLLATE "C" AS month, o.certified,
               o.placement_start - o.finished_on AS days_to_placement, o.monthly_wage,
               o.placement_start <= {on_p}::date - 182 AS placed_6m_ago,
               o.placement_start <= {on_p}::date - 182
                   AND (o.placement_status = 'active' OR o.placement_end >= o.placement_start + 182) AS retained_6m,
               o.rating
        FROM training_outcome o LEFT JOIN agency a ON a.id = o.institution
        WHERE o.finished_on BETWEEN {from_p} AND {to_p} {scope}
    ), agg AS (
        SELECT {dim_select},
               count(*) AS trained, count(DISTINCT worker) AS trained_people,
               count(*) FILTER (WHERE certified) AS certified,
               count(*) FILTER (WHERE days_to_placement <= 30) AS placed_30d,
               count(*) FILTER (WHERE days_to_placement <= 90) AS placed_90d,
               count(*) FILTER (WHERE days_to_placement <= 180) AS placed_180d,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_placement) AS median_days_to_placement,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_wage) AS median_monthly_wage,
               count(*) FILTER (WHERE placed_6m_ago) AS placed_6m_ago,
               count(*) FILTER (WHERE retained_6m) AS retained_6m,
               round(avg(rating)::numeric, 2)::float AS avg_rating
        FROM outcome {group}
    )
    SELECT agg.*, pg.name_zh AS programme_name, ia.name AS institution_name, d.name_zh AS district_name
           {target_select}
    FROM agg
    LEFT JOIN programme pg ON pg.code = agg.programme
    LEFT JOIN agency ia ON ia.id = agg.institution
    LEFT JOIN district d ON d.code = agg.district
    {target_joins}
    ORDER BY {", ".join(f"g_{d} DESC, {d} NULLS FIRST" for d in dims) or "1"}
    """
    return sql, p.values


def certificates_sql(
    principal: Principal, dims: list[str], date_from: date, date_to: date, on: date
) -> tuple[str, list]:
    spec, p = CERTIFICATES, _Params()
    if principal.is_admin:
        scope = ""
    elif principal.role == Role.EVALUATION:
        scope = f" AND c.issuer = {p(principal.agency_id)}"
    else:
        raise Forbidden("此报表不对该机构开放 (this report is not open to this kind of agency)")
    dim_select, group = _dimension_columns(spec, dims)
    target_joins, target_select = _target_joins(spec, p, _target_year(date_from, date_to))
    sql = f"""
    WITH base AS (
        SELECT c.id, c.worker, c.kind, c.occupation_code AS occupation, c.level, c.issuer AS evaluator,
               coalesce(a.district_code, '') AS district, to_char(c.issued_on, 'YYYY-MM') AS month,
               (c.kind IN ('skill_level', 'qualification') AND c.level <= 3) AS senior
        FROM certificate c LEFT JOIN agency a ON a.id = c.issuer
        WHERE c.status = 'verified' AND c.issued_on BETWEEN {p(date_from)} AND {p(date_to)} {scope}
    ), agg AS (
        SELECT {dim_select}, count(*) AS certificates, count(DISTINCT worker) AS people,
               count(*) FILTER (WHERE senior) AS senior
        FROM base {group}
    )
    SELECT agg.*, o.name_zh AS occupation_name, ea.name AS evaluator_name, d.name_zh AS district_name
           {target_select}
    FROM agg
    LEFT JOIN occupation o ON o.code = agg.occupation
    LEFT JOIN agency ea ON ea.id = agg.evaluator
    LEFT JOIN district d ON d.code = agg.district
    {target_joins}
    ORDER BY {", ".join(f"g_{d} DESC, {d} NULLS FIRST" for d in dims) or "1"}
    """
    return sql, p.values


def money_sql(principal: Principal, dims: list[str], date_from: date, date_to: date, on: date) -> tuple[str, list]:
    spec, p = MONEY, _Params()
    if principal.is_admin:
        scope = ""
    elif principal.role == Role.TRAINING:
        scope = f" AND s.institution = {p(principal.agency_id)}"
    else:
        raise Forbidden("此报表不对该机构开放 (this report is not open to this kind of agency)")
    dim_select, group = _dimension_columns(spec, dims)
    year = _target_year(date_from, date_to)
    budget_only = " AND ".join(f"agg.g_{d} = 1" for d in ("institution", "quarter", "month"))
    sql = f"""
    WITH base AS (
        SELECT s.programme_code AS programme, s.institution, to_char(s.claimed_on, 'YYYY-MM') AS month,
               to_char(s.claimed_on, 'YYYY-"Q"Q') AS quarter, s.amount, s.status
        FROM subsidy_claim s
        WHERE s.claimed_on BETWEEN {p(date_from)} AND {p(date_to)} {scope}
    ), agg AS (
        SELECT {dim_select}, count(*) AS claims, coalesce(sum(amount), 0)::bigint AS claimed,
               coalesce(sum(amount) FILTER (WHERE status IN ('approved', 'paid', 'recovered')), 0)::bigint AS approved,
               coalesce(sum(amount) FILTER (WHERE status IN ('paid', 'recovered')), 0)::bigint AS paid,
               coalesce(sum(amount) FILTER (WHERE status = 'recovered'), 0)::bigint AS recovered,
               coalesce(sum(amount) FILTER (WHERE status = 'refused'), 0)::bigint AS refused
        FROM base {group}
    )
    SELECT agg.*, pg.name_zh AS programme_name, ia.name AS institution_name,
           b.amount AS budget, round(agg.approved * 100.0 / nullif(b.amount, 0), 2)::float AS budget_used_pct
    FROM agg
    LEFT JOIN programme pg ON pg.code = agg.programme
    LEFT JOIN agency ia ON ia.id = agg.institution
    LEFT JOIN (SELECT programme_code, amount FROM programme_budget WHERE year = {p(year)}::int
               UNION ALL
               SELECT NULL, sum(amount)::bigint FROM programme_budget WHERE year = {p(year)}::int) b
           ON b.programme_code IS NOT DISTINCT FROM (CASE WHEN agg.g_programme = 0 THEN agg.programme END)
          AND {budget_only}
    ORDER BY {", ".join(f"g_{d} DESC, {d} NULLS FIRST" for d in dims) or "1"}
    """
    if principal.role == Role.TRAINING:
        # An institution sees its own money, not the programme's budget.
        sql = sql.replace(
            "b.amount AS budget, round(agg.approved * 100.0 / nullif(b.amount, 0), 2)::float AS budget_used_pct",
            "NULL::bigint AS budget, NULL::float AS budget_used_pct",
        )
    return sql, p.values


BUILDERS = {"training-employment": training_employment_sql, "certificates": certificates_sql, "subsidies": money_sql}
NAME_COLUMNS = {
    "programme": ("programme_name", "项目名称"),
    "institution": ("institution_name", "机构名称"),
    "district": ("district_name", "区县名称"),
    "occupation": ("occupation_name", "职业名称"),
    "evaluator": ("evaluator_name", "评价机构名称"),
}
TARGET_LABELS = {"trained": "培训", "certified": "取证", "placed": "就业", "senior": "高级工"}


def columns(spec: ReportSpec, dims: list[str]) -> list[tuple[str, str]]:
    cols: list[tuple[str, str]] = []
    for dim in dims:
        cols.append((dim, spec.dimensions[dim]))
        if dim in NAME_COLUMNS:
            cols.append(NAME_COLUMNS[dim])
    cols += [(m.key, m.label) for m in spec.measures]
    for metric in spec.targets:
        cols += [
            (f"{metric}_target", f"{TARGET_LABELS[metric]}目标"),
            (f"{metric}_completion_pct", f"{TARGET_LABELS[metric]}完成率(%)"),
        ]
    if spec is MONEY:
        cols += [("budget", "预算(元)"), ("budget_used_pct", "预算使用率(%)")]
    return cols


async def run_report(principal: Principal, name: str, *, group_by: list[str], date_from: date, date_to: date) -> dict:
    spec = REPORTS[name]
    if date_to < date_from:
        raise InvalidField("date_to", "不能早于 date_from (must not be before date_from)")
    dims = _parse_group_by(spec, group_by)
    sql, values = BUILDERS[name](principal, dims, date_from, date_to, today_local())
    # On DATABASE_READ_URL when set: a report's figures may lag the primary by a replica's delay.
    async with read_pool().acquire() as connection, connection.transaction(readonly=True):
        # The groupings sort every row several times; in memory that is several times faster.
        await connection.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        records = await connection.fetch(sql, *values)
    cols = columns(spec, dims)
    keys = [k for k, _ in cols]
    rows = []
    for record in records:
        row = {k: record[k] for k in keys}
        row["group"] = [d for d in dims if record[f"g_{d}"] == 0]
        rows.append(row)
    return {
        "report": name,
        "date_from": date_from,
        "date_to": date_to,
        "group_by": dims,
        "columns": [{"key": k, "label": label} for k, label in cols],
        "rows": rows,
    }
