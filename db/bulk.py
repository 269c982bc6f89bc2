"""Multi-row inserts that stay fast at scale: PostgreSQL COPY for big batches, executemany otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, insert

#: From this many rows on, PostgreSQL gets COPY (one round trip) instead of one INSERT per row.
COPY_MIN_ROWS = 100


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence]
) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` within the connection's transaction."""
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy(connection, table, columns, rows)
    else:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    quote = connection.dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(c) for c in columns)})"
    # The driver's cursor on the same DBAPI connection, so COPY is part of the open transaction.
    cursor = connection.connection.driver_connection.cursor()
    with cursor:
        # Binary COPY skips formatting every float as text; it needs the columns' type OIDs.
        cursor.execute(
            f"SELECT {', '.join(quote.quote(c) for c in columns)} FROM {quote.format_table(table)} LIMIT 0"
        )
        oids = [column.type_code for column in cursor.description]
        with cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(oids)
            for row in rows:
                copy.write_row(row)
