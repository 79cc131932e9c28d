"""gunicorn's logs, minus secrets.

The access log names every request's path, and the error log the path of a request that
failed; some paths are capabilities (a buyer's /b/<token>/, a calendar feed's
/cal/<token>.ics, a password reset link). This logger redacts every field of the
access log and puts mapsite.redaction's filter on every handler of both logs.
"""

from gunicorn.glogging import Logger

from mapsite.redaction import RedactingFilter, redact

__all__ = ["RedactingLogger", "redact"]


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())

    def atoms(self, resp, req, environ, request_time):
        return {
            key: redact(value)
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
