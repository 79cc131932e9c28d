"""mapsite's settings for a real server started by a test: static files are served from
the source folders (no collectstatic), as in the rest of the test suite."""

from mapsite.settings import *  # noqa: F403
from mapsite.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
