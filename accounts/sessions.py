"""The session engine (settings.SESSION_ENGINE): Django's cached_db, whose rows also
record the signed-in user (accounts.models.UserSession), so that all of a person's
sessions can be found and ended (accounts.services.user_sessions_end)."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore


class SessionStore(CachedDBStore):
    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            instance.user_id = None
        return instance
