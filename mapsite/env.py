"""Reading the environment for mapsite/settings.py: a value or its default (an empty
variable counts as unset), yes/no flags, comma-separated lists and networks, and the
secret key (SECRET_KEY, or one generated once and kept in the data folder)."""

import ipaddress
import os
import secrets

from django.core.exceptions import ImproperlyConfigured


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_networks(name):
    """Comma-separated CIDR networks (10.1.0.0/16, fd00:1::/64); a mistake stops start-up."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=True)))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network ({exc}).") from None
    return networks


def secret_key(data_dir, production):
    key = env("SECRET_KEY")
    if key:
        return key
    if production:
        raise ImproperlyConfigured("SECRET_KEY must be set when MAPSITE_ENV=production.")
    path = data_dir / "secret_key"
    if not path.exists():
        # Created once, readable by the owner only, and kept across restarts.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
