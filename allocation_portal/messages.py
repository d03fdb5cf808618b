"""Texts the portal writes for people to read later — notices, the reasons of ledger entries and
audit events — are stored as a message code with its parameters, and rendered in the reader's
language when they are shown.

A message is `msg(gettext_noop("Your GPU loan ends on %(end)s"), end=...)`: the English source string
(marked with `gettext_noop`, so the catalog has it) and JSON-ready parameters. A parameter may be
another message (rendered too), a date or time (written one way: YYYY-MM-DD, or YYYY-MM-DD HH:MM in
KST), a name in both languages (`both(ko, en)`), or text a person typed (shown as typed). Anything stored before messages existed is a plain
string and is shown as it is (translated if it happens to be a source string of the catalog)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone, translation
from django.utils.translation import gettext

if TYPE_CHECKING:
    from typing_extensions import TypeIs

KEY, PARAMS = "m", "p"
Message = dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict) and (KEY in value or "ko" in value):
        return value
    if isinstance(value, dt.datetime):
        return {"dt": timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def msg(text: str, /, **params: Any) -> Message:
    """A message for later: its source string and its parameters."""
    return {KEY: str(text), PARAMS: {name: _jsonable(value) for name, value in params.items()}}


def label(text: Any) -> Message:
    """A message of a translatable label (a choice's label, a lazy string): stored by its English
    source text, so each reader sees it in their own language."""
    with translation.override("en"):
        return msg(str(text))


def both(ko: str, en: str) -> dict[str, str]:
    """A parameter that exists in both languages (a project's Korean and English title)."""
    return {"ko": ko or en, "en": en or ko}


def is_message(value: Any) -> TypeIs[Message]:
    return isinstance(value, dict) and KEY in value


def _param(value: Any) -> Any:
    if is_message(value):
        return render(value)
    if isinstance(value, dict) and "dt" in value:
        moment = dt.datetime.fromisoformat(value["dt"])
        return (timezone.localtime(moment) if timezone.is_aware(moment) else moment).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict) and "d" in value:
        return value["d"]
    if isinstance(value, dict) and "ko" in value:
        return value["en"] if (translation.get_language() or "ko").startswith("en") else value["ko"]
    return value


def render(value: Any, language: str | None = None) -> str:
    """The text of a stored message (or plain string) in `language` (default: the active one)."""
    if value is None or value == "":
        return ""
    if language is not None:
        with translation.override(language):
            return render(value)
    if not is_message(value):
        text = str(value)
        return gettext(text) if text else text
    template = gettext(value[KEY])
    params = {name: _param(param) for name, param in (value.get(PARAMS) or {}).items()}
    try:
        return template % params if params else template
    except (KeyError, ValueError, TypeError):
        return template


def plain(value: Any) -> str:
    """What to keep in a plain-text column beside a message: its Korean rendering (the portal's first
    language), for readers of the database and old clients."""
    return render(value, "ko")
