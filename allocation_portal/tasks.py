"""Thin Celery tasks of the core: JSON arguments, idempotent, each calls one service. The e-mail
run is defined beside the service it runs (allocation_portal.notifications)."""

from .notifications import send_pending_notification_emails

__all__ = ["send_pending_notification_emails"]
