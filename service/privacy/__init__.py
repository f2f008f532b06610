"""Masking of personal data for responses and logs."""

from __future__ import annotations

import re

# Compound surnames common in Guangdong and beyond.
COMPOUND_SURNAMES = (
    "欧阳",
    "司徒",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "长孙",
    "宇文",
    "夏侯",
    "端木",
    "西门",
    "南宫",
    "轩辕",
)

# Separators people and URLs put inside numbers: space, dot, hyphen, a form-encoded space
# ("+") and the percent-encoded space and hyphen.
_SEP = r"(?:[\s.+-]|%20|%2[Dd])?"
# 18-character resident ID numbers (the last may be X or x), also grouped 6-8-4 and
# followed directly by text; the 15-digit first-generation ones too.
_ID18_IN_TEXT = re.compile(rf"(?<![0-9])(\d{{4}})\d{{2}}{_SEP}\d{{8}}{_SEP}\d{{3}}([0-9Xx])(?![0-9])")
_ID15_IN_TEXT = re.compile(r"(?<![0-9])(\d{4})\d{7}(\d{4})(?![0-9])")
# Mainland mobile numbers, with or without the country code (+86, 0086, 86, %2B86) and
# with separators: 13800138000, +86 138 0013 8000, 8613800138000.
_PHONE_IN_TEXT = re.compile(
    rf"(?<![0-9])((?:(?:\+|%2[Bb]|00)?86{_SEP})?)(1[3-9]\d)((?:{_SEP}\d){{4}})((?:{_SEP}\d){{4}})(?![0-9])"
)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text.replace("%20", "").replace("%2D", "").replace("%2d", ""))


def mask_id_number(id_number: str) -> str:
    """`441802199001011234` → `4418**********1234`."""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """`13800138000` → `138****8000`."""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def surname(real_name: str) -> str:
    """A compound surname when the name starts with one and goes on; else the first character."""
    for compound in COMPOUND_SURNAMES:
        if real_name.startswith(compound) and len(real_name) > len(compound):
            return compound
    return real_name[:1]


def name_head_sql(column: str) -> tuple[str, str]:
    """What `surname` needs of a name, in SQL, for the matcher's bulk load: the code points
    of its first character and of its second (0 unless more characters follow). The rule
    itself stays in `surname` alone, applied to `name_head` of these."""
    if any(len(compound) != 2 for compound in COMPOUND_SURNAMES):
        raise ValueError("name_head_sql serves two-character compound surnames only")
    return (
        f"ascii({column})::int4",
        f"(CASE WHEN char_length({column}) > 2 THEN ascii(substr({column}, 2, 1)) ELSE 0 END)::int4",
    )


def name_head(first: int, second: int) -> str:
    """A name with the same surname as the one `name_head_sql` read as (first, second)."""
    return (chr(first) if first else "") + (chr(second) + "\u2026" if second else "")


def public_display_name(real_name: str, gender: str) -> str:
    """What an employer sees before an offer is accepted: `陈阿姨`, `李师傅`."""
    return surname(real_name) + ("阿姨" if gender == "female" else "师傅")


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text (log lines, query
    strings, headers), whatever its spacing or country code."""
    text = _ID18_IN_TEXT.sub(lambda m: m.group(1) + "*" * 10 + _digits(m.group(0))[-4:], text)
    text = _ID15_IN_TEXT.sub(lambda m: m.group(1) + "*" * 7 + m.group(2), text)
    return _PHONE_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + "****" + _digits(m.group(4)), text)


def carries_personal_data(text: str) -> bool:
    """Whether `text` holds something `mask_text` would mask."""
    return mask_text(text) != text
