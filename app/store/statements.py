"""Statements composed with ``psycopg.sql``, rendered once where they are written.

The store builds its statements from parts (column lists read by name, shared conditions)
with ``psycopg.sql``, so that no identifier is spliced into a string by hand. psycopg renders
a ``Composed`` again at every execute: each identifier quoted, each part encoded and joined.
The statements a status poll, a key check or a chunk's bookkeeping runs have parts fixed
where they are written, so that work is done once: ``rendered`` turns a composition into one
literal statement, executed as it is.
"""

from __future__ import annotations

from psycopg import sql


def rendered(query: sql.Composable) -> sql.SQL:
    """Return ``query`` rendered now, as one literal statement (placeholders kept)."""
    return sql.SQL(query.as_string())  # type: ignore[arg-type]  # rendered from literals
