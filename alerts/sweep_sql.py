"""The overdue sweep's SQL toolkit: the names of the tables it writes, read from the
models, its per-connection scratch tables, and the few spots where PostgreSQL and
SQLite spell its statements differently. The statements themselves are in
alerts/sweep.py."""

import json

from django.db import connection

# The scratch tables: a timezone's candidates (kept across its batches), and what a
# batch's claim returned (each task's new level and whether it was flagged before) and
# the rooms it touched as they are after it (column, PostgreSQL type).
CANDIDATES = "alerts_sweep_candidates"
CLAIMED = "alerts_sweep_claimed"
ROOMS = "alerts_sweep_rooms"
SCRATCH = {
    CLAIMED: (
        ("id", "uuid"),
        ("org_id", "uuid"),
        ("room_id", "uuid"),
        ("due_date", "date"),
        ("owner_id", "uuid"),
        ("title", "text"),
        ("overdue_level", "smallint"),
        ("was_flagged", "boolean"),
    ),
    ROOMS: (("id", "uuid"), ("revision", "bigint")),
}


class Names:
    """A model's table and columns for hand-written SQL, read from its metadata, so a
    renamed table or column changes the SQL with it (and a field that is gone fails at
    once): ``Names(Task, "t").due_date`` is ``t.due_date``, ``Names(Task).room`` is
    ``room_id``, ``.table`` is the quoted table name."""

    def __init__(self, model, alias=""):
        self._meta = model._meta
        self._alias = alias

    @property
    def table(self):
        return connection.ops.quote_name(self._meta.db_table)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        column = self._meta.get_field(name).column
        return f"{self._alias}.{column}" if self._alias else column

    def columns(self, *names):
        return ", ".join(getattr(self, name) for name in names)


def compiled(model, expression):
    """``expression`` (an expression or a Q) over ``model``'s table as SQL, with its
    parameters; columns are named ``"table"."column"``."""
    query = model.objects.all().query
    compiler = query.get_compiler(connection=connection)
    return compiler.compile(expression.resolve_expression(query, allow_joins=False))


def compiled_where(queryset):
    """The WHERE clause of ``queryset`` (no joins) as SQL, with its parameters."""
    query = queryset.query
    return query.where.as_sql(query.get_compiler(connection=connection), connection)


class Dialect:
    """The few spots where PostgreSQL and SQLite spell the sweep's SQL differently."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.ops = connection.ops

    def date(self, value):
        return ("%s::date" if self.pg else "%s"), self.ops.adapt_datefield_value(value)

    def datetime(self, value):
        return self.ops.adapt_datetimefield_value(value)

    def in_batch(self, column, bounds, was_flagged):
        """``column`` is the id of a candidate numbered within ``bounds`` (first, last]
        whose task was (``was_flagged``) or was not flagged for its due date when found."""
        picked = (
            f"SELECT id FROM {CANDIDATES} WHERE n > %s AND n <= %s"
            f" AND {'' if was_flagged else 'NOT '}was_flagged"
        )
        if self.pg:
            # ARRAY(…): the claim probes the primary key for each id, whatever the
            # planner would guess of a temporary table without statistics.
            return f"{column} = ANY(ARRAY({picked}))", list(bounds)
        return f"{column} IN ({picked})", list(bounds)

    def create_scratch(self):
        """The per-connection tables: a timezone's candidates, numbered in room order,
        and what each batch claimed and the rooms it touched (emptied by each batch),
        so that the writes after the claim read them there. (On SQLite without column
        types: a declared type would turn some hexadecimal ids into numbers.)"""
        with connection.cursor() as c:
            for table, columns in SCRATCH.items():
                names = ", ".join(f"{name} {kind if self.pg else ''}" for name, kind in columns)
                c.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({names})")
            c.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {CANDIDATES} (n INTEGER PRIMARY KEY, "
                + ("id uuid, was_flagged boolean)" if self.pg else "id, was_flagged)")
            )

    def empty(self, c, *tables):
        # TRUNCATE: a deleted row of a temporary table would stay until a VACUUM.
        for table in tables:
            c.execute(f"{'TRUNCATE' if self.pg else 'DELETE FROM'} {table}")

    def keep(self, c, table, statement, params=(), *, extra=()):
        """Run ``statement`` (an UPDATE … RETURNING the first columns of ``table``) and
        keep what it returns in that scratch table, followed by the constants ``extra``:
        on PostgreSQL in the same statement, on SQLite (no UPDATE in a WITH) through one
        JSON parameter. Returns the number of rows kept."""
        columns = [name for name, _ in SCRATCH[table]]
        names = ", ".join(columns)
        if self.pg:
            constants = "".join(f", {'true' if value else 'false'}" for value in extra)
            c.execute(
                f"WITH kept AS ({statement}) INSERT INTO {table} ({names})"
                f" SELECT *{constants} FROM kept",
                params,
            )
            return c.rowcount
        c.execute(statement, params)
        rows = [[*row, *extra] for row in c.fetchall()]
        if rows:
            picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            c.execute(
                f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each(%s)",
                [json.dumps(rows, default=str)],
            )
        return len(rows)

    def uuid_text(self, column):
        """A UUID column as text in Python's str(uuid) form (as the rest of the code
        writes target ids)."""
        if self.pg:
            return f"CAST({column} AS TEXT)"
        return (
            f"lower(substr({column},1,8)||'-'||substr({column},9,4)||'-'||"
            f"substr({column},13,4)||'-'||substr({column},17,4)||'-'||substr({column},21))"
        )

    def days_between(self, day_sql, column):
        if self.pg:
            return f"({day_sql} - {column})"
        return f"CAST(julianday({day_sql}) - julianday({column}) AS INTEGER)"

    @property
    def empty_json(self):
        return "'{}'::jsonb" if self.pg else "'{}'"

    def greatest(self, *terms):
        return ("GREATEST" if self.pg else "MAX") + f"({', '.join(terms)})"

    def json_object(self, *terms):
        return ("json_build_object" if self.pg else "json_object") + f"({', '.join(terms)})"

    def json_object_agg(self, key, value):
        """A JSON object of ``key``: ``value`` over a group, for a jsonb column (built as
        json and converted once: a third of the time of building jsonb value by value)."""
        if self.pg:
            return f"CAST(json_object_agg({key}, {value}) AS jsonb)"
        return f"json_group_object({key}, {value})"
