"""``essaycheck serve``'s connection limits: idle clients, huge bodies, a reverse proxy."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from essaycheck import cli

from .conftest import RUBRIC_DIR

#: the server under test closes idle connections after this many seconds, and holds this
#: many connections at once: fewer than the idle sockets the tests open
CHANNEL_TIMEOUT = 2
CONNECTION_LIMIT = 60


def _get(port: int, path: str = "/", timeout: float = 20.0) -> bytes:
    """The status line of a GET to the server, read within ``timeout`` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n"
                       "Connection: close\r\n\r\n".encode())
        return client.makefile("rb").readline()


@pytest.fixture(scope="module")
def server():
    """``essaycheck serve`` as a subprocess on a free port with a small connection limit and
    a short idle timeout, ready to answer: its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "essaycheck.cli", "serve", "--port", str(port), "--rubrics",
         str(RUBRIC_DIR), "--connection-limit", str(CONNECTION_LIMIT), "--channel-timeout",
         str(CHANNEL_TIMEOUT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(port, timeout=5).startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_idle_connections_do_not_starve_new_ones(server):
    """More idle sockets than the server takes (and than waitress's default limit of 100),
    some halfway through their headers: a real request still succeeds, within the idle
    timeout, and the idle sockets are closed by the server."""
    idle = []
    try:
        for n in range(110):
            client = socket.create_connection(("127.0.0.1", server), timeout=10)
            if n % 2:
                client.sendall(b"GET / HTTP/1.1\r\nHost: loc")  # and never the rest
            idle.append(client)
        started = time.monotonic()
        assert _get(server).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 20
        # the server has closed the sockets it accepted once they sat idle
        closed = 0
        for client in idle[:CONNECTION_LIMIT // 2]:
            client.settimeout(CHANNEL_TIMEOUT + 10)
            try:
                closed += client.recv(1) == b""
            except OSError:
                closed += 1
        assert closed == CONNECTION_LIMIT // 2
    finally:
        for client in idle:
            client.close()


def test_a_huge_body_is_refused_before_it_is_sent(server):
    """A request announcing a gigabyte gets 413 at once, without waitress waiting for (and
    spooling to disk) the body."""
    with socket.create_connection(("127.0.0.1", server), timeout=10) as client:
        client.sendall(b"POST /api/v1/check HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
        status = client.makefile("rb").readline()
    assert status.startswith(b"HTTP/1.1 413")


@pytest.fixture
def waitress_settings(monkeypatch, checker):
    """Runs ``serve`` with waitress.serve replaced: the settings it would have been given."""
    import waitress

    given: dict = {}
    monkeypatch.setattr(cli, "load_checker", lambda *args: checker)
    monkeypatch.setattr(waitress, "serve", lambda app, **settings: given.update(settings))

    def run(*options: str) -> dict:
        given.clear()
        result = CliRunner().invoke(cli.main, ["serve", *options])
        assert result.exit_code == 0, result.output
        return dict(given)

    return run


def test_serve_limits_default_to_a_class_at_once(waitress_settings):
    from essaycheck.web import MAX_CONTENT_LENGTH

    settings = waitress_settings()
    assert settings["connection_limit"] == cli.CONNECTION_LIMIT == 1000
    assert settings["channel_timeout"] == cli.CHANNEL_TIMEOUT == 30
    assert settings["cleanup_interval"] <= 10
    assert settings["max_request_body_size"] == cli.MAX_REQUEST_BODY == 2 * MAX_CONTENT_LENGTH
    assert settings["asyncore_use_poll"] is True  # select() fails beyond 1,024 sockets
    assert "trusted_proxy" not in settings


def test_serve_trusts_a_named_reverse_proxy(waitress_settings):
    settings = waitress_settings("--trusted-proxy", "127.0.0.1", "--connection-limit", "300",
                                 "--channel-timeout", "5")
    assert settings["trusted_proxy"] == "127.0.0.1"
    assert settings["trusted_proxy_headers"] == {"x-forwarded-for", "x-forwarded-proto",
                                                 "x-forwarded-host", "x-forwarded-port"}
    assert settings["clear_untrusted_proxy_headers"] is True
    assert (settings["connection_limit"], settings["channel_timeout"]) == (300, 5)
    assert settings["cleanup_interval"] <= 5


def test_serve_refuses_a_connection_limit_the_system_cannot_open(monkeypatch, checker):
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 90_000:
        pytest.skip("this system allows any number of open files")
    monkeypatch.setattr(cli, "load_checker", lambda *args: checker)
    result = CliRunner().invoke(cli.main, ["serve", "--connection-limit", "100000"])
    assert result.exit_code != 0
    assert "--connection-limit" in result.output and "ulimit -n" in result.output
