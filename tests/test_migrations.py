"""The schema comes from migrations: upgrading an empty database gives exactly the models."""
import os
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.helpers import ROOT


def _fresh_database_urls(tmp_path):
    yield f"sqlite:///{tmp_path / 'migrated.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql"):
        name = f"qatysu_migr_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield str(make_url(url).set(database=name).render_as_string(hide_password=False))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_migrations_build_the_models_schema(tmp_path):
    for url in _fresh_database_urls(tmp_path):
        class Config(TestingConfig):
            SQLALCHEMY_DATABASE_URI = url

        app = create_app(Config)
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"render_as_batch": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == [], f"{url.split(':')[0]}: models and migrations differ: {differences}"
            downgrade(directory=str(ROOT / "migrations"), revision="base")
            db.engine.dispose()
