"""Thin Celery tasks: JSON arguments, idempotent, each calls one service."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from allocation_portal.errors import PortalError
from gpus.models import Provider

from .services import telemetry_pull

logger = logging.getLogger(__name__)


@shared_task
def pull_telemetry(day: str | None = None) -> dict:
    """Yesterday's GPU telemetry (KST) from each provider whose Prometheus address is set (beat:
    daily at 03:30 KST). A provider that does not answer is logged and retried the next day with the
    day it missed (the pull of a day is idempotent)."""
    chosen = dt.date.fromisoformat(day) if day else timezone.localdate() - dt.timedelta(days=1)
    done: dict[str, str] = {}
    for provider in Provider.objects.exclude(prometheus_url="").order_by("code"):
        try:
            received = telemetry_pull(actor=None, provider=provider, first_day=chosen, last_day=chosen,
                                      check_permission=False)
            done[provider.code] = "changed" if received[0].changed else "unchanged"
        except PortalError as exc:
            logger.warning("Telemetry of %s for %s not pulled: %s", provider.code, chosen, exc)
            done[provider.code] = f"failed: {exc}"
    return done
