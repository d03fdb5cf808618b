"""Writing audit events. Every service that changes state calls `record` inside its own
transaction, so the change and its audit row commit or roll back together."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.utils import timezone, translation

from .messages import Message, is_message, plain
from .models import AuditEvent


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready picture of a model's own column values, for `before` and `after`."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(obj, field.attname)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool | dict | list):
            value = str(value)
        data[field.name] = value
    return data


def _names(obj: models.Model) -> dict[str, str]:
    """What the object is called in each language (a project's title, a choice's label)."""
    names = {}
    for language in ("ko", "en"):
        with translation.override(language):
            names[language] = str(obj)
    return names


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | Message = "",
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise RuntimeError("Audit events must be written inside the transaction of the change they record.")
    names: dict[str, str] | None = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", None) or getattr(obj, "code", None) or obj.pk)
        if object_repr is None:
            names = _names(obj)
            object_repr = names["ko"]
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor_obj,
        actor_name=(actor_obj.get_username() if actor_obj else "system"),
        actor_role=(actor_obj.role if actor_obj else "system"),
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:300],
        object_repr_i18n=names and {language: name[:300] for language, name in names.items()},
        before=before,
        after=after,
        reason=plain(reason) if is_message(reason) else (reason or ""),
        reason_msg=reason if is_message(reason) else None,
    )
