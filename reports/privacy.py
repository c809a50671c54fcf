"""Masking of personal identity numbers in text shown to the public.

Citizens sometimes type their CPR number (Denmark) or personnummer (Sweden) into a
description. Staff keep the original; every public output shows it masked.

- Danish CPR: DDMMYY-SSSS or DDMMYYSSSS where DDMMYY is a real date. (The modulus-11 check
  was given up in 2007, so it is not required.)
- Swedish personnummer: YYMMDD-NNNN, YYMMDD+NNNN (over 100), YYYYMMDD-NNNN, YYYYMMDDNNNN or
  YYMMDDNNNN with a valid Luhn check digit; coordination numbers (day + 60) count too.

Between the date and the last four digits people type a hyphen, a dash of any kind (the en
dash a word processor makes of a hyphen), a minus sign, a space, or nothing; a label in front
("CPR-010190-1234", "cpr.nr. 010190 1234") is no protection. Numbers glued to other digits
are left alone (they are something else), so are phone numbers: they do not form a valid date
followed by four digits with the right shape.
"""

from __future__ import annotations

import calendar
import re

MASK_CHAR = "*"

# Hyphen, the Unicode dashes and minus sign, and spaces (ordinary and no-break).
_SEPARATORS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212 \u00a0"
_CANDIDATE = re.compile(
    rf"(?<!\d)(?<!\d[{_SEPARATORS}+])"
    rf"(?P<number>(?:\d{{2}})?\d{{6}}[{_SEPARATORS}+]?\d{{4}})"
    r"(?!\d)"
)
_TO_HYPHEN = str.maketrans({char: "-" for char in _SEPARATORS})


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12:
        return False
    if year < 100:
        # A two-digit year could be 19YY or 20YY: allow 29 February if either is a leap year.
        last = max(calendar.monthrange(1900 + year, month)[1],
                   calendar.monthrange(2000 + year, month)[1])
    else:
        last = calendar.monthrange(year, month)[1]
    return 1 <= day <= last


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def is_cpr(text: str) -> bool:
    digits = text.replace("-", "")
    if len(digits) != 10 or not digits.isdigit() or "+" in text:
        return False
    if "-" in text and text.index("-") != 6:
        return False
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    return _valid_date(year, month, day)


def is_personnummer(text: str) -> bool:
    separator = "-" if "-" in text else "+" if "+" in text else ""
    digits = text.replace("-", "").replace("+", "")
    if not digits.isdigit() or len(digits) not in (10, 12):
        return False
    if separator and text.index(separator) != len(digits) - 4:
        return False
    if separator == "+" and len(digits) == 12:
        return False  # "+" only makes sense with a two-digit year
    if len(digits) == 12:
        century, digits = int(digits[:2]), digits[2:]
        if century not in (18, 19, 20):
            return False
        year = century * 100 + int(digits[:2])
    else:
        year = int(digits[:2])
    month, day = int(digits[2:4]), int(digits[4:6])
    if day > 60:
        day -= 60  # samordningsnummer
    return _valid_date(year, month, day) and _luhn_ok(digits)


def _mask(number: str) -> str:
    return "".join(MASK_CHAR if char.isdigit() else char for char in number)


def mask_identity_numbers(text: str) -> str:
    """`text` with every CPR number and personnummer replaced by asterisks."""
    if not text:
        return text

    def replace(match: re.Match) -> str:
        number = match.group("number")
        canonical = number.translate(_TO_HYPHEN)
        return _mask(number) if is_cpr(canonical) or is_personnummer(canonical) else number

    return _CANDIDATE.sub(replace, text)


# --- contact details typed into a citizen's own text --------------------------------------
# Citizens also type phone numbers and e-mail addresses (their own, or a neighbour's) into
# descriptions. Those are masked in what the public sees of citizen text (descriptions,
# answers, citizens' updates); staff replies are not touched: "ring 33 66 33 66" there is
# the municipality's own number.

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?![\w-])")
# A phone number: an optional +45/+46/0045/0046 and 8 to 10 digits in groups of 1 to 4
# joined by a space, a hyphen or a dot, not glued to other digits.
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)4[56][\s.-]?)?\d{1,4}(?:[\s.-]?\d{1,4}){1,5}(?![\w])")
# Dates and times are digits in groups too; they stay.
_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$")


def _mask_phone(match: re.Match) -> str:
    number = match.group(0)
    digits = sum(char.isdigit() for char in number)
    national = digits - (2 if number.startswith(("+45", "+46")) else
                         4 if number.startswith(("0045", "0046")) else 0)
    if not 8 <= national <= 10 or _DATE.match(number.strip()):
        return number
    return _mask(number)


def mask_citizen_text(text: str) -> str:
    """A citizen's text as the public sees it: identity numbers, e-mail addresses and
    phone numbers masked."""
    if not text:
        return text
    text = mask_identity_numbers(text)
    text = _EMAIL.sub(lambda m: "***@***", text)
    return _PHONE.sub(_mask_phone, text)
