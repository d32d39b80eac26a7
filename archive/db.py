"""Engine, sessions and migrations. SQLite (WAL, foreign keys) by default, PostgreSQL by URL."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import ConfigError
from archive.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only: it holds recordings of people at risk."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            ensure_private_dir(Path(path).parent)
            Path(path).touch(mode=0o600, exist_ok=True)
            os.chmod(path, 0o600)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # imported here: only migrations need it, and it slows every start by 0.1 s

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (the CLI and API do this at start)."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise ConfigError(f"database unreachable or unusable ({engine.url.render_as_string()}): {exc.orig}") from exc


class Archive:
    """An opened archive: settings, engine, session factory. The unit everything else receives."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, run_migrations: bool = True):
        self.settings = settings
        ensure_private_dir(settings.home)
        self.engine = engine or make_engine(settings.db_url)
        if run_migrations:
            migrate(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error (nothing half-written)."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def store(self):
        from archive.store import MediaStore

        return MediaStore(self.settings.media_path)

    def release_media(self, shas: Iterable[str]) -> list[str]:
        """Remove from the store the files no MediaAsset refers to any more (after a rebuild replaced
        them, or after a failed write). Returns what was removed."""
        from sqlalchemy import select

        from archive.models import MediaAsset

        candidates = set(shas)
        if not candidates:
            return []
        with self.session() as session:
            referenced = set(session.scalars(select(MediaAsset.sha256).where(MediaAsset.sha256.in_(candidates))))
        released = sorted(candidates - referenced)
        for sha in released:
            self.store.remove(sha)
        return released

    def dispose(self) -> None:
        self.engine.dispose()


def open_archive(settings: Settings) -> Archive:
    try:
        return Archive(settings)
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot open the database: {exc}") from exc
