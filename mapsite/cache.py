"""The shared caches.

The embedded default's: Django's file cache (a folder every web process sees) with
counters that are exact across threads and processes.

Django's file cache makes ``add()`` a check and a write, and ``incr()`` a ``get()`` and
a ``set()`` that also restarts the entry's timeout: two processes counting at once lose
hits, and a counter's window moves with every hit. Here ``add()``, ``incr()`` and
``touch()`` run under one exclusive lock on a file in the cache folder (Django's
``locks``: ``fcntl.flock`` on POSIX), and ``incr()`` keeps the entry's expiry. Reads and
plain ``set()`` need no lock: a write replaces the entry's file in one rename, so a
reader sees the old value or the new one.

Production's: Django's Redis cache, keeping one Redis client per connection pool
instead of building one for every call (``RedisCache``).
"""

import os
import pickle
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.files import locks

LOCK_NAME = "counters.lock"  # not a ".djcache" file: never culled or cleared


class LockingFileBasedCache(FileBasedCache):
    @contextmanager
    def _locked(self):
        self._createdir()
        with open(os.path.join(self._dir, LOCK_NAME), "ab") as lock:
            locks.lock(lock, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked():
            return super().add(key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked():
            return super().touch(key, timeout, version)

    def incr(self, key, delta=1, version=None):
        fname = self._key_to_file(key, version)
        with self._locked():
            try:
                with open(fname, "rb") as f:
                    expiry = pickle.load(f)
                    value = pickle.loads(zlib.decompress(f.read()))
            except (FileNotFoundError, EOFError):
                expiry, value = 0, None
            if value is None or (expiry is not None and expiry < time.time()):
                raise ValueError(f"Key '{key}' not found")
            new_value = value + delta
            # Keep the entry's expiry: a timeout of None means "never expires".
            remaining = None if expiry is None else max(expiry - time.time(), 0.001)
            self.set(key, new_value, timeout=remaining, version=version)
            return new_value


class _OneClientPerPool(RedisCacheClient):
    """Django's Redis client builds a new ``redis.Redis`` for every cache call, and each
    one builds its table of about 170 reply callbacks: a quarter of a millisecond for a
    page making four calls. A ``redis.Redis`` holds no connection of its own (it takes
    one from its pool for each command) and is thread-safe, so one per pool is kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, with one client per connection pool (``_OneClientPerPool``)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
