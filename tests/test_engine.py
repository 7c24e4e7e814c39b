"""SQLite as the bot opens it: what makes its commits durable and its readers concurrent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db.engine import Database


def test_sqlite_commits_reach_the_disk_before_they_return(tmp_path: Path) -> None:
    # synchronous=FULL (2): a power cut after a commit loses nothing, so a delivery
    # recorded as sent stays sent and is never sent again.
    db = Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.close()
