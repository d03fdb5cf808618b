"""For loaders of facts (the 2026 programme, its selection): a row made or brought up to date so that
loading twice writes nothing the second time."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)


def sync_row(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, bool]:
    """get_or_create, then update only the fields that differ. Returns (row, whether anything was written)."""
    obj, created = model.objects.get_or_create(**lookup, defaults=values)  # type: ignore[attr-defined]
    if created:
        return obj, True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return obj, bool(changed)
