"""The embedded default's shared cache: Django's file cache (a folder every web process
sees) with counters that are exact across threads and processes.

Django's file cache makes ``add()`` a check and a write, and ``incr()`` a ``get()`` and
a ``set()`` that also restarts the entry's timeout: two processes counting at once lose
hits, and a counter's window moves with every hit. Here ``add()``, ``incr()`` and
``touch()`` run under one exclusive lock on a file in the cache folder (Django's
``locks``: ``fcntl.flock`` on POSIX), and ``incr()`` keeps the entry's expiry. Reads and
plain ``set()`` need no lock: a write replaces the entry's file in one rename, so a
reader sees the old value or the new one.
"""

import os
import pickle
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
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
