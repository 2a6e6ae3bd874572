"""Postgres administration for the bridge tests (a module of its own: two test folders have a conftest)."""

import os

PG = dict(host=os.environ.get("PGHOST", "127.0.0.1"), port=int(os.environ.get("PGPORT", "5432")), user=os.environ.get("PGUSER", "postgres"))


def admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def storage_url(database: str) -> str:
    return f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{database}?options=-csearch_path%3Doptuna"
