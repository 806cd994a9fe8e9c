"""The store: migrations, encryption at rest, key file, typed errors."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import inspect

import mcinfra
from mcinfra.store import Store

SECRET = "AKIA-very-secret-value-123"


def test_default_location_and_wal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCINFRA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MCINFRA_SECRET_KEY", raising=False)
    with mcinfra.Infra() as infra:
        infra.credentials.add("c1", provider="mock", keys={"token": SECRET})
    db = tmp_path / "home" / "mcinfra.db"
    assert db.exists()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    key = tmp_path / "home" / "mcinfra.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_migrations_create_the_schema(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.db")
    tables = set(inspect(store.engine).get_table_names())
    assert {"alembic_version", "credentials", "regions", "connections", "iids", "iid_refs", "call_history"} <= tables
    Store(f"sqlite:///{tmp_path}/m.db")  # opening again is a no-op upgrade


def test_migration_head_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mcinfra.store.db import MIGRATIONS, migration_head

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS.parent))
    assert migration_head() == ScriptDirectory.from_config(cfg).get_current_head()


def test_current_schema_opens_without_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    Store(f"sqlite:///{tmp_path}/a.db")
    code = ("import sys; from mcinfra.store import Store; "
            f"Store('sqlite:///{tmp_path}/a.db'); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "False"


def test_credentials_encrypted_at_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCINFRA_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path}/s.db"
    with mcinfra.Infra(url) as infra:
        info = infra.credentials.add("c1", provider="mock", keys={"aws_secret_access_key": SECRET})
        assert info.keys == ["aws_secret_access_key"]
        assert SECRET not in repr(info) and SECRET not in repr(infra.credentials.list())
    raw = Path(f"{tmp_path}/s.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("s.db-wal"))
    assert SECRET.encode() not in raw
    assert Store(url).credential("c1")[1] == {"aws_secret_access_key": SECRET}


def test_wrong_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    monkeypatch.setenv("MCINFRA_SECRET_KEY", "first passphrase")
    Store(url).add_credential("c1", "mock", {"k": "v"})
    monkeypatch.setenv("MCINFRA_SECRET_KEY", "another passphrase")
    with pytest.raises(mcinfra.StoreError, match="MCINFRA_SECRET_KEY"):
        Store(url).credential("c1")


def test_config_errors(tmp_path: Path) -> None:
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        with pytest.raises(mcinfra.InvalidRequest):
            infra.credentials.add("c", provider="nosuchcloud", keys={"a": "b"})
        with pytest.raises(mcinfra.InvalidRequest):
            infra.credentials.add("c", provider="mock", keys={})
        infra.credentials.add("c", provider="mock", keys={"a": "b"})
        with pytest.raises(mcinfra.AlreadyExists):
            infra.credentials.add("c", provider="mock", keys={"a": "b"})
        infra.regions.add("r", provider="mock", region="venus", zone="venus-a")
        with pytest.raises(mcinfra.NotFound):
            infra.connections.add("x", credential="nope")
        with pytest.raises(mcinfra.InvalidRequest):
            infra.connections.add("x")
        infra.connections.add("conn", credential="c", region="r")
        with pytest.raises(mcinfra.InUse):
            infra.credentials.delete("c")
        with pytest.raises(mcinfra.NotFound):
            infra.connect("nope")
        cloud = infra.connect("conn")
        cloud.vpcs.create("v", cidr="10.0.0.0/16")
        with pytest.raises(mcinfra.InUse):
            infra.connections.delete("conn")
        cloud.destroy_all()
        infra.connections.delete("conn")
        infra.credentials.delete("c")
        assert infra.credentials.list() == [] and [r.name for r in infra.regions.list()] == ["r"]


def test_planned_provider_says_what_is_missing() -> None:
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        statuses = {p.name: p for p in infra.providers()}
        assert set(statuses) == {"alibaba", "aws", "azure", "gcp", "mock", "openstack", "tencent", "twin"}
        assert statuses["mock"].installed
        from mcinfra.drivers.loader import PLANNED

        if PLANNED:  # a provider the project knows of but has no driver for yet
            infra.connections.add("planned", provider=PLANNED[0])
            with pytest.raises(mcinfra.DriverNotInstalled, match="no driver for it yet"):
                infra.connect("planned")
    assert "pip install 'mcinfra[gcp]'" in str(mcinfra.DriverNotInstalled("gcp", "gcp", "no module google"))
    assert "cannot run here: needs root" in str(mcinfra.DriverNotInstalled("twin", "", "needs root"))


def test_store_unreachable_is_typed(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(mcinfra.StoreError, match="cannot open"):
        Store(f"sqlite:///{blocker}/sub/x.db")
    with pytest.raises(mcinfra.StoreError, match="cannot open"):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
