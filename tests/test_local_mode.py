"""Local mode is safe by default: without [auth] Tower is one local admin, so `python -m tower` binds
127.0.0.1 only and refuses — before binding anything — a network address, however it is asked for
(flag, environment, config.toml). A client from another computer is refused even when the server
was started some other way."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.test_browser import ARGS, CHROMIUM, free_port
from tests.ui_fixtures import ROOT, write_config
from tower.auth import serving

pytestmark = pytest.mark.timeout(300)


def clean_env(tmp: Path, **extra) -> dict[str, str]:
    """An environment whose only Streamlit settings are ours: HOME in tmp (no ~/.streamlit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "TOWER_"))}
    return {**env, "HOME": str(tmp), "PYTHONPATH": str(ROOT),
            "TOWER_CONFIG": str(write_config(tmp, tmp / "data" / "tower.duckdb")), **extra}


def non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))   # no packet is sent: this only picks the outgoing interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on `port`, from /proc/net/tcp (IPv4) and tcp6."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(addr[i:i + 8])[::-1] for i in range(0, 32, 8))
                    found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def run_tower(tmp: Path, args: list[str], env: dict[str, str], cwd: Path | None = None):
    return subprocess.run([sys.executable, "-m", "tower", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


# ── the decision (no server) ────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("argv,env,configured,expected", [
    ([], {}, None, ["--server.address", "127.0.0.1"]),
    (["--server.address", "127.0.0.1"], {}, None, []),
    (["--server.address=localhost"], {}, None, []),
    (["--server.address", "::1"], {}, None, []),
    ([], {}, "127.0.0.1", []),
])
def test_local_mode_serves_loopback_only(argv, env, configured, expected):
    plan = serving.plan(argv, env, configured, [])
    assert plan.mode == "local" and plan.extra_args == expected


@pytest.mark.parametrize("argv,env,configured", [
    (["--server.address", "0.0.0.0"], {}, None),
    (["--server.address=192.0.2.2"], {}, None),
    (["--server.address", "127.0.0.1", "--server.address", "::"], {}, None),
    ([], {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}, None),
    ([], {}, "0.0.0.0"),
    ([], {}, "tower.example.com"),
])
def test_a_network_address_without_sign_in_is_refused(argv, env, configured):
    with pytest.raises(serving.RefusedToStart) as e:
        serving.plan(argv, env, configured, [])
    assert "[auth]" in e.value.message and "Sign-in" in e.value.message


def test_with_auth_configured_any_address_is_served(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "https://tower.example.com/oauth2callback"\n')
    assert serving.plan(["--server.address", "0.0.0.0"], {}, None, [tmp_path / "none.toml", secrets]).mode == "auth"


def test_dev_sign_in_is_loopback_only_and_unknown_modes_are_refused():
    plan = serving.plan([], {"TOWER_AUTH": "dev"}, None, [])
    assert plan.mode == "dev" and plan.extra_args[:2] == ["--server.address", "127.0.0.1"]
    with pytest.raises(serving.RefusedToStart, match="this computer only"):
        serving.plan(["--server.address", "0.0.0.0"], {"TOWER_AUTH": "dev"}, None, [])
    with pytest.raises(serving.RefusedToStart, match="TOWER_AUTH"):
        serving.plan([], {"TOWER_AUTH": "none"}, None, [])


def test_streamlit_settings_are_read_like_streamlit_reads_them(tmp_path):
    home, cwd, app = (tmp_path / d / ".streamlit" for d in ("home", "cwd", "app"))
    for folder in (home, cwd, app):
        folder.mkdir(parents=True)
    (home / "config.toml").write_text('[server]\naddress = "0.0.0.0"\n')
    (app / "config.toml").write_text('[server]\nport = 9000\n')
    address, files = serving.streamlit_settings([home, cwd, app])
    assert address == "0.0.0.0", "a later file without the key keeps the earlier value"
    assert files == [home / "secrets.toml", cwd / "secrets.toml", app / "secrets.toml"]
    (cwd / "config.toml").write_text('[server]\naddress = "127.0.0.1"\n[secrets]\nfiles = ["/etc/tower.toml"]\n')
    assert serving.streamlit_settings([home, cwd, app]) == ("127.0.0.1", [Path("/etc/tower.toml")])


def test_dev_secrets_keep_their_cookie_secret(tmp_path):
    first = serving.write_dev_secrets(tmp_path, "http://127.0.0.1:1/.well-known/openid-configuration")
    secret = [ln for ln in first.read_text().splitlines() if ln.startswith("cookie_secret")]
    again = serving.write_dev_secrets(tmp_path, "http://127.0.0.1:2/.well-known/openid-configuration")
    assert [ln for ln in again.read_text().splitlines() if ln.startswith("cookie_secret")] == secret
    assert "127.0.0.1:2" in again.read_text() and oct(again.stat().st_mode & 0o777) == "0o600"


# ── the real command ────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("how", ["flag", "env", "config.toml"])
def test_python_m_tower_refuses_a_network_address_and_binds_nothing(tmp_path, how):
    port = free_port()
    args, env, cwd = ["--server.port", str(port)], clean_env(tmp_path), tmp_path
    if how == "flag":
        args += ["--server.address", "0.0.0.0"]
    elif how == "env":
        env["STREAMLIT_SERVER_ADDRESS"] = "0.0.0.0"
    else:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "config.toml").write_text('[server]\naddress = "0.0.0.0"\n')
    done = run_tower(tmp_path, args, env, cwd=cwd)
    assert done.returncode != 0
    assert "will not listen on '0.0.0.0' without sign-in" in done.stderr
    assert "[auth]" in done.stderr and 'section "Sign-in"' in done.stderr
    assert not listening_addresses(port)
    assert not (tmp_path / "data" / "tower.duckdb").exists(), "refused before the runtime started"


def wait_healthy(url: str, proc, log: Path, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())
        time.sleep(0.5)
    raise RuntimeError("server did not become healthy:\n" + log.read_text())


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_default_start_listens_on_loopback_only(tmp_path):
    port = free_port()
    log = tmp_path / "tower.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tower", "--server.port", str(port)],
                                cwd=ROOT, env=clean_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        assert listening_addresses(port) == {"127.0.0.1"}
        ip = non_loopback_ip()
        if ip:
            with pytest.raises(OSError), socket.create_connection((ip, port), timeout=3):
                pass
        assert "local (one local admin, 127.0.0.1 only)" in log.read_text()
        # the dev sign-in's provider (Flask, Authlib's deprecated jose) is loaded only for TOWER_AUTH=dev
        assert "DeprecationWarning" not in log.read_text()
    finally:
        stop(proc)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium not installed at {CHROMIUM}")
@pytest.mark.skipif(non_loopback_ip() is None, reason="this machine has no non-loopback address")
def test_a_client_from_another_computer_is_refused_in_local_mode(tmp_path):
    """A bare `streamlit run` on every interface (not `python -m tower`): the app itself still
    gives no local admin to a client that is not on this computer."""
    from playwright.sync_api import sync_playwright

    port, ip = free_port(), non_loopback_ip()
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless",
                                 "true", "--server.port", str(port), "--server.address", "0.0.0.0",
                                 "--server.fileWatcherType", "none"],
                                cwd=ROOT, env=clean_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://{ip}:{port}/")
            page.wait_for_selector("h1:has-text('This Tower serves this computer only')", timeout=90000)
            body = page.inner_text("body")
            assert "War room" not in body and "Local mode" not in body
            page.goto(f"http://127.0.0.1:{port}/")      # the same server, from this computer
            page.wait_for_selector("h1:has-text('War room')", timeout=90000)
            # the banner is its own element, drawn in the same run: wait for it, not only the title
            page.get_by_text("Local mode: one local admin, this computer only").first.wait_for(timeout=30000)
            assert "Local mode: one local admin, this computer only" in page.inner_text("body")
            browser.close()
    finally:
        stop(proc)
