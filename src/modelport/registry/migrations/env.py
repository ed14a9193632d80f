"""Alembic environment: migrate the connection modelport hands over, or a URL given with -x url=."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from modelport.registry.database import normalize_url
from modelport.registry.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=DATABASE_URL upgrade head")
    with create_engine(normalize_url(url)).connect() as conn:
        _run(conn)
        conn.commit()


main()
