"""The secret key comes from the operator (DESIGN §7): no start on a missing, short or published key.

Attack reproduced: config/defaults.toml used to ship `secret_key = "dev-only-change-me"` and the
app ran on it under gunicorn, so anyone could sign a session cookie naming the admin.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

from service.cli.demo import DEMO_SECRET_FILE, demo_secret_key, demo_settings
from service.config import InsecureConfiguration, load_settings
from tests.conftest import TEST_SECRET_KEY


@pytest.mark.parametrize("key", ["", "dev-only-change-me", "short-secret", "x" * 31])
def test_create_app_refuses_default_or_short_secret(settings, db, key: str) -> None:
    from service import create_app

    with pytest.raises(InsecureConfiguration, match="GRADFLOW_SECRET_KEY"):
        create_app(load_settings(environ={}, database_url=settings.database_url,
                                 instance_path=settings.instance_path, secret_key=key))


def test_published_default_no_longer_forges_a_session(settings, db) -> None:
    """With the old default one could sign {'uid': 1}; the default is now empty and refused."""
    from service import create_app

    defaults = load_settings(environ={})
    assert defaults.secret_key == ""
    with pytest.raises(InsecureConfiguration):
        create_app(load_settings(environ={}, database_url=settings.database_url,
                                 instance_path=settings.instance_path))
    app = create_app(settings)  # a real key: a cookie signed with the published one is rejected
    forged = SecureCookieSessionInterface().get_signing_serializer(
        type("A", (), {"secret_key": "dev-only-change-me", "config": app.config})()).dumps({"sid": "x", "uid": 1})
    client = app.test_client()
    client.set_cookie("session", forged)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_serve_without_secret_exits_with_a_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update(GRADFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
               GRADFLOW_INSTANCE_PATH=str(tmp_path / "instance"),
               GRADFLOW_AUDIT_KEY="cli-test-audit-key-" + "k" * 32)
    for key in (None, "dev-only-change-me", "too-short"):
        if key is not None:
            env["GRADFLOW_SECRET_KEY"] = key
        result = subprocess.run([sys.executable, "-m", "service.cli", "serve", "--port", "1"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "GRADFLOW_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "serve.db").exists()  # refused before touching the database


def test_demo_generates_a_private_secret_once_and_reuses_it(tmp_path: Path, settings) -> None:
    instance = tmp_path / "demo-instance"
    first = demo_secret_key(instance)
    path = instance / DEMO_SECRET_FILE
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_secret_key(instance) == first
    demo = demo_settings(load_settings(environ={}, instance_path=str(instance)))
    assert demo.secret_key == first
    strong = load_settings(environ={}, instance_path=str(instance), secret_key=TEST_SECRET_KEY)
    assert demo_settings(strong).secret_key == TEST_SECRET_KEY  # the operator's key wins
