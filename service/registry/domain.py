"""Domain rules of the registry that are not about storage: ID numbers, health tiers, wages, statuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from service.taxonomy.rules import (
    CATEGORY_CODES,
    HEALTH_CHECK_VALID_DAYS,
    HEALTH_TIER_CODES,
    HEALTH_TIER_NAMES,
    HEALTH_TIER_RANK,
)

GUANGDONG_TZ = ZoneInfo("Asia/Shanghai")
BLACKLIST_YEARS = 3
MIN_WORKER_AGE = 16

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def today_local() -> date:
    return datetime.now(GUANGDONG_TZ).date()


def local_date(moment: datetime) -> date:
    """The day in Guangdong on which `moment` (a timestamptz) fell."""
    return moment.astimezone(GUANGDONG_TZ).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


class IdNumberError(ValueError):
    pass


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    return _ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def parse_id_number(raw: str) -> tuple[str, date, str]:
    """Validate a resident ID number (GB 11643-1999) and return (normalised, birth date, gender).

    The 18th character is the ISO 7064 MOD 11-2 check digit; the 17th is odd for men.
    """
    value = raw.strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise IdNumberError("须为 18 位，前 17 位为数字 (must be 18 characters, the first 17 digits)")
    if value[17] != id_check_digit(value[:17]):
        raise IdNumberError("校验码不正确 (the check digit is wrong)")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError("出生日期无效 (the embedded birth date is invalid)") from None
    gender = "male" if int(value[16]) % 2 else "female"
    return value, born, gender


# The categories and health tiers are data with their sources (service/taxonomy/rules.py);
# these enums are their wire vocabulary.
Category = StrEnum("Category", {code.upper(): code for code in CATEGORY_CODES})  # 母婴, 居家, 养老, 医护
HealthTier = StrEnum("HealthTier", {code.upper(): code for code in HEALTH_TIER_CODES})


def health_tier_name(code: str) -> str:
    return HEALTH_TIER_NAMES.get(code, code)


def strictest_health_report(reports: list[dict]) -> dict | None:
    """The report to show first: the strictest tier, then the latest."""
    return max(reports, key=lambda h: (HEALTH_TIER_RANK.get(h["tier"], -1), h["valid_until"]), default=None)


# Wages: per month, per hour, or per 单 (a 26-day term, as 月嫂 are priced).
TERM_DAYS = 26
DAYS_PER_MONTH = 365.25 / 12
WAGE_UNITS = ("month", "hour", "term")
WAGE_UNIT_LABELS = {"month": "元/月", "hour": "元/小时", "term": "元/单（26天）"}


def units_per_month(unit: str, hours_per_month: float) -> float:
    """How many of `unit` make a month: the one conversion every wage comparison goes
    through (a 单 is 26 of the 365.25 / 12 days of a month)."""
    return {"month": 1.0, "hour": hours_per_month, "term": DAYS_PER_MONTH / TERM_DAYS}[unit]


# The most a wage or budget may say per unit (元). Above it is a typing slip (a monthly
# figure entered per hour), refused rather than ranked.
WAGE_LIMITS = {"month": 100_000, "hour": 1_000, "term": 100_000}
# Only 月嫂 work is priced per 单.
TERM_PRICED_CATEGORIES = frozenset({"maternity"})


def wage_problem(
    low: int | None, high: int | None, unit: str, categories: list[str], *, fields: tuple[str, str, str]
) -> tuple[str, str] | None:
    """(field, message) for the first thing wrong with a wage range, or None.

    `fields` names the (low, high, unit) fields in the caller's body: the same rule serves
    a worker's stated wage and a request's budget.
    """
    low_field, high_field, unit_field = fields
    if unit == "term" and not TERM_PRICED_CATEGORIES & set(categories):
        return unit_field, "按单计价只用于母婴（月嫂）服务 (per-单 pricing is for maternity work only)"
    limit = WAGE_LIMITS.get(unit)
    for name, value in ((low_field, low), (high_field, high)):
        if limit is not None and value is not None and value > limit:
            return name, f"不能超过 {limit} {WAGE_UNIT_LABELS[unit]} (must not exceed {limit} per {unit})"
    if low is not None and high is not None and low > high:
        return low_field, f"不能高于 {high_field} (must not exceed {high_field})"
    return None


class WorkerStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    SUSPENDED = "suspended"


class CredentialStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"  # derived from dates, never stored


def effective_status(stored: str, valid_until: date | None, on: date | None = None) -> str:
    if stored == CredentialStatus.VERIFIED and valid_until is not None and valid_until < (on or today_local()):
        return CredentialStatus.EXPIRED
    return stored


def health_valid_until(checked_on: date) -> date:
    return checked_on + timedelta(days=HEALTH_CHECK_VALID_DAYS)


class TrainingType(StrEnum):
    """The training types the bureau reports on."""

    EMPLOYMENT_SKILLS = "employment_skills"  # 就业技能培训 (for jobseekers)
    SKILL_UPGRADE = "skill_upgrade"  # 岗位技能提升培训 (for people in work)
    ENTREPRENEURSHIP = "entrepreneurship"  # 创业培训
    JOB_ADAPTATION = "job_adaptation"  # 适岗培训
    APPRENTICESHIP = "apprenticeship"  # 企业新型学徒制


TRAINING_TYPE_NAMES = {
    TrainingType.EMPLOYMENT_SKILLS: "就业技能培训",
    TrainingType.SKILL_UPGRADE: "岗位技能提升培训",
    TrainingType.ENTREPRENEURSHIP: "创业培训",
    TrainingType.JOB_ADAPTATION: "适岗培训",
    TrainingType.APPRENTICESHIP: "企业新型学徒制",
}


class CertificateKind(StrEnum):
    SKILL_LEVEL = "skill_level"  # 职业技能等级证书, levels 5-1, from a registered 评价机构
    QUALIFICATION = "qualification"  # 职业资格证书, the older national qualifications, levels 5-1
    SPECIAL_ABILITY = "special_ability"  # 专项职业能力证书, one skill (催乳, 小儿推拿), no level
    TRAINING_PASS = "training_pass"  # 培训合格证, no level


CERTIFICATE_KIND_NAMES = {
    CertificateKind.SKILL_LEVEL: "职业技能等级证书",
    CertificateKind.QUALIFICATION: "职业资格证书",
    CertificateKind.SPECIAL_ABILITY: "专项职业能力证书",
    CertificateKind.TRAINING_PASS: "培训合格证",
}
LEVELLED_CERTIFICATE_KINDS = frozenset({CertificateKind.SKILL_LEVEL, CertificateKind.QUALIFICATION})
# Kinds an evaluation institution may only issue for occupations it is registered (备案) for.
REGISTERED_CERTIFICATE_KINDS = frozenset({CertificateKind.SKILL_LEVEL, CertificateKind.SPECIAL_ABILITY})
