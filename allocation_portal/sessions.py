"""The session engine (settings.SESSION_ENGINE): Django's database sessions, each row with the id
of the user logged in with it, so that a person's sessions can be found and ended at once (when
they are deactivated) without decoding every session in the table."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls):
        from .models import PortalSession

        return PortalSession

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        # Written on every save, so a key cycled at login (or after a password change) keeps its owner.
        raw = data.get(SESSION_KEY)
        try:
            obj.user_id = int(raw) if raw is not None else None
        except (TypeError, ValueError):
            obj.user_id = None
        return obj
