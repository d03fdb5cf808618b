"""Registration numbers of organisations, checked by format before anything is saved.

Companies give their 사업자등록번호 (business registration number): 10 digits, written
XXX-XX-XXXXX, whose last digit is a check digit. Universities and research institutes give the
same 10-digit number or their 고유번호 (also XXX-XX-XXXXX), or a 13-digit 법인등록번호
(XXXXXX-XXXXXXX). Numbers are kept in one written form, so the same number typed with or
without hyphens is the same organisation."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def business_number_valid(digits: str) -> bool:
    """The National Tax Service's check digit of a 10-digit 사업자등록번호."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    numbers = [int(c) for c in digits]
    total = sum(n * w for n, w in zip(numbers[:9], _WEIGHTS, strict=True)) + (numbers[8] * 5) // 10
    return (10 - total % 10) % 10 == numbers[9]


def normalise_registration_number(kind: str, value: str) -> tuple[str, str | None]:
    """(the number in its one written form, an error message or None)."""
    raw = (value or "").strip()
    if not re.fullmatch(r"[0-9\- ]+", raw or "x"):
        return raw, _("Use digits and hyphens only, for example 123-45-67890.")
    digits = re.sub(r"[\- ]", "", raw)
    if kind == "industry":
        if len(digits) != 10:
            return raw, _("A business registration number (사업자등록번호) has 10 digits: 123-45-67890.")
        if not business_number_valid(digits):
            return raw, _("This is not a valid business registration number (사업자등록번호): its check digit "
                          "does not match. Check the number on your registration certificate.")
        return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}", None
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}", None
    if len(digits) == 13:
        return f"{digits[:6]}-{digits[6:]}", None
    return raw, _("Give the 10-digit registration or unique number (123-45-67890) or the 13-digit corporate "
                  "registration number (123456-1234567).")
