"""Querysets compiled once and run many times, for the hot paths (the live poll, a
kept buyer link) where building and compiling a queryset on every request would cost
more than the query itself.

The SQL is the ORM's, compiled from the same queryset methods the pages use (the
tenant scope, what makes a link active), so each rule keeps one spelling; only the
values change between runs. Each value that changes is a *slot*: a model field and a
stand-in value for it, found once among the compiled query's parameters and replaced
by the run's own value (prepared for the database by that field, as the ORM would).
"""

from django.db import connection


class Prepared:
    """``build(**stand_ins)`` returns the queryset (``values_list`` of what to read);
    ``slots`` name each changing value: ``name=(field, stand_in)``, the stand-in a
    value no other parameter of the query has. ``first(**values)`` runs it and returns
    the first row as the database gives it (or None)."""

    def __init__(self, build, **slots):
        self._build = build
        self._slots = slots
        self._compiled = {}  # per database vendor: (sql, params, positions)

    def _prep(self, name, value):
        field, _ = self._slots[name]
        return field.get_db_prep_value(value, connection, prepared=False)

    def _compile(self):
        stand_ins = {name: stand_in for name, (_, stand_in) in self._slots.items()}
        sql, params = self._build(**stand_ins).order_by().query.sql_with_params()
        params = list(params)
        positions = {}
        for name, stand_in in stand_ins.items():
            found = [i for i, param in enumerate(params) if param == self._prep(name, stand_in)]
            if len(found) != 1:
                raise ValueError(f"slot {name!r} is found {len(found)} times in {sql}")
            positions[name] = found[0]
        return sql, params, positions

    def _compiled_for_now(self):
        vendor = connection.vendor
        if vendor not in self._compiled:
            self._compiled[vendor] = self._compile()
        return self._compiled[vendor]

    def first(self, **values):
        sql, params, positions = self._compiled_for_now()
        params = list(params)
        for name, value in values.items():
            params[positions[name]] = self._prep(name, value)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
