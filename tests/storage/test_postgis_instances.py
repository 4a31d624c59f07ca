"""Two app instances (separate gunicorn processes, as if on two machines) on one database: an
import, then a rollback, made by a third process (``flask ocop import``) are served by both at
once, with no restart; ``make run``'s command serves from PostGIS with the URL set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from geoapp.config import PROJECT_ROOT
from geoapp.storage import pg_schema
from tests.storage.conftest import pg_settings
from tests.storage.pg_server import free_port
from tests.tiny_data import write_tiny_data

PRODUCTS_CSV = (
    "product_id,name,group_148,stars,recognition_date,producer_id\n"
    "N1,Mật ong mới,Thực phẩm,4,2024-05-10,PR1\n"
)


def environment(db, data_dir: Path, versions_dir: Path) -> dict[str, str]:
    settings = pg_settings(db)
    return {
        **os.environ,
        "GEOAPP_DATABASE_URL": settings["database_url"],
        "GEOAPP_DATABASE_SCHEMA": settings["database_schema"],
        "GEOAPP_DATA_DIR": str(data_dir),
        "GEOAPP_VERSIONS_DIR": str(versions_dir),
        "GEOAPP_TILE_URL": "none",
        "GEOAPP_AS_OF": "2024-12-31",
    }


def get_json(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def start_gunicorn(stack: ExitStack, env: dict[str, str], port: int) -> None:
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stack.callback(process.wait, 20)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get_json(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        assert process.poll() is None, "gunicorn exited"
        time.sleep(0.2)
    raise AssertionError(f"gunicorn on {port} did not answer within 60 s")


def flask(env: dict[str, str], *args: str) -> str:
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        [str(bin_dir / "flask"), "--app", "wsgi", *args], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def counted(port: int) -> tuple[str, int]:
    status, health = get_json(port, "/healthz")
    assert status == 200
    status, body = get_json(port, "/api/coverage?edition=2020")
    assert status == 200
    return health["data_version"], body["province"]["products_counted"]


def test_an_import_through_one_process_is_served_by_every_instance(pg_db, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    env = environment(pg_db, data, tmp_path / "versions")
    flask(env, "db", "upgrade")  # already at head: a no-op, as on every deploy
    assert "seed" in flask(env, "db", "load")
    (tmp_path / "products.csv").write_text(PRODUCTS_CSV, encoding="utf-8")
    with ExitStack() as stack:
        ports = []
        for _ in range(2):
            ports.append(free_port())
            start_gunicorn(stack, env, ports[-1])
        before = [counted(port) for port in ports]
        assert before[0] == before[1]

        assert "imported as v0001" in flask(env, "ocop", "import", str(tmp_path / "products.csv"))
        after = [counted(port) for port in ports]
        assert after[0] == after[1]
        assert after[0][0] != before[0][0] and after[0][1] == before[0][1] + 1

        assert "now serving seed" in flask(env, "ocop", "rollback", "seed")
        assert [counted(port) for port in ports] == before
        history = flask(env, "ocop", "history")
        assert "v0001" in history and "rollback" in history
    assert not (tmp_path / "versions").exists(), "nothing was written to the file store"
    pg_schema.upgrade(pg_db)  # still at head
