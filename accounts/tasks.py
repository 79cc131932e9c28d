from celery import shared_task
from django.core import management


@shared_task
def clear_expired_sessions():
    """Housekeeping on beat: drop expired sessions (seller and buyer alike)."""
    management.call_command("clearsessions")
