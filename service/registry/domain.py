"""Domain rules of the registry that are not about storage: ID numbers, health tiers, statuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

GUANGDONG_TZ = ZoneInfo("Asia/Shanghai")
BLACKLIST_YEARS = 3
HEALTH_CHECK_VALID_DAYS = 365
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


class Category(StrEnum):
    MATERNITY = "maternity"  # 母婴
    HOUSEHOLD = "household"  # 居家
    ELDERLY = "elderly"  # 养老
    MEDICAL = "medical"  # 医护


class HealthTier(IntEnum):
    """Health-check tiers, by strictness; a stricter report also covers the laxer tiers."""

    GENERAL = 1  # 一般家政服务员
    HOME = 2  # 居家家政服务员
    ELDERLY = 3  # 养老照护服务员
    MATERNITY = 4  # 母婴照护服务员


HEALTH_TIER_NAMES = {
    HealthTier.GENERAL: "一般家政服务员",
    HealthTier.HOME: "居家家政服务员",
    HealthTier.ELDERLY: "养老照护服务员",
    HealthTier.MATERNITY: "母婴照护服务员",
}
HEALTH_TIER_BY_CODE = {t.name.lower(): t for t in HealthTier}
# The tiers' codes in HealthTier order, laxest first.
HEALTH_TIER_CODES = tuple(HEALTH_TIER_BY_CODE)

# In-home work needs a valid report of at least this tier.
REQUIRED_HEALTH_TIER = {
    Category.MATERNITY: HealthTier.MATERNITY,
    Category.HOUSEHOLD: HealthTier.HOME,
    Category.ELDERLY: HealthTier.ELDERLY,
    Category.MEDICAL: HealthTier.ELDERLY,
}


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
