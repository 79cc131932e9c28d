"""The LOGGING setting: every handler redacts secrets (buyer links, calendar feeds, reset
and invitation links, API tokens) from everything a record prints (mapsite.redaction)."""


def logging_config(level):
    """Django's LOGGING dict, the root logger at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "mapsite.redaction.RedactingFilter"}},
        "formatters": {
            "django.server": {
                "()": "django.utils.log.ServerFormatter",
                "format": "[{server_time}] {message}",
                "style": "{",
            }
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
            "django.server": {
                "class": "logging.StreamHandler",
                "formatter": "django.server",
                "filters": ["redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default configuration gives these handlers of its own, which would
            # print unredacted: "django" uses the root's instead, runserver's lines their own.
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
            "django.db.backends": {"level": "WARNING"},
            # The PDF renderer narrates every step at INFO.
            "weasyprint": {"level": "WARNING"},
            "weasyprint.progress": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }
