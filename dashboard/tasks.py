"""Background work of the dashboard."""

from celery import shared_task


@shared_task(name="dashboard.tasks.refresh_kpis", ignore_result=True)
def refresh_kpis(org_id, owner_id=None):
    """Recompute one scope's KPIs into the shared cache (queued when a stale value was
    served)."""
    from .kpis import refresh

    refresh(org_id=org_id, owner_id=owner_id)
