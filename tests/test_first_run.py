"""What a newcomer meets first: `make run` in a fresh clone, the key it prints, a bad setting,
and how quickly `clarion --help` answers."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clarion.cli import QUICKSTART_KEY, _print_quickstart, _warn_of_loopback_tracking
from clarion.config import BadSetting, load_settings
from clarion.core import Clarion
from tests.conftest import free_port

DEV_TOOLS = ("mypy", "ruff", "pytest")


def _clean_env(**settings: str) -> dict[str, str]:
    """The environment without this run's CLARION_* settings or the outer make's job server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CLARION_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env.pop("VIRTUAL_ENV", None)
    return {**env, **settings}


def _repository() -> Path:
    found = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.skip("not in a git checkout")
    return Path(found.stdout.strip())


class _MakeRun:
    """``make run`` in its own process group, its output gathered as it comes."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)

    def wait_healthy(self, url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, "make run ended:\n" + "".join(self.lines)
            assert time.monotonic() < deadline, "no /healthz:\n" + "".join(self.lines)
            time.sleep(0.2)

    def stop(self, url: str) -> str:
        """SIGTERM to the group, as a terminal's stop would; the server must end by itself."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        self.reader.join(timeout=10)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/healthz", timeout=1)
        return "".join(self.lines)


@pytest.mark.timeout(900)
def test_make_run_in_a_fresh_clone(tmp_path: Path) -> None:
    """Runtime packages only, the URL explained, and one key however often it starts."""
    root = _repository()
    clone = tmp_path / "clarion"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    uv = root / ".tools" / "bin" / "uv"
    if uv.exists():  # uv's own install is not what is tested here, and pip would take long
        (clone / ".tools" / "bin").mkdir(parents=True)
        (clone / ".tools" / "bin" / "uv").symlink_to(uv)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_env(CLARION_HOST="127.0.0.1", CLARION_PORT=str(port))
    # With bytecode written at the first start, the second takes seconds, not half a minute.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    first = _MakeRun(clone, env)
    try:
        first.wait_healthy(url, 600)
    finally:
        output = first.stop(url)
    assert f"Clarion {url}" in output
    key_line = next(line for line in output.splitlines() if line.startswith("New access key:"))
    access_key_id = key_line.split()[3]
    assert "Pinpoint API endpoint" in output
    assert f"{url}/healthz" in output
    assert "CLARION_PUBLIC_URL" in output, "the warning about loopback tracking links"
    venv = clone / ".venv"
    assert (venv / "bin" / "clarion").exists()
    for tool in DEV_TOOLS:
        assert not (venv / "bin" / tool).exists(), f"make run installed {tool}"
    assert not list(venv.glob("lib/python*/site-packages/moto")), "make run installed moto"

    second = _MakeRun(clone, env)
    try:
        second.wait_healthy(url, 300)
    finally:
        output = second.stop(url)
    assert "New access key" not in output
    assert f"Access key: {access_key_id}" in output
    assert ".venv/bin/clarion keys create" in output
    listed = subprocess.run(
        [str(venv / "bin" / "clarion"), "keys", "list", "--json"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [k["AccessKeyId"] for k in json.loads(listed.stdout)] == [access_key_id]


@pytest.fixture
def clarion(tmp_path: Path) -> Iterator[Clarion]:
    started = Clarion(load_settings(data_dir=tmp_path))
    started.start()
    try:
        yield started
    finally:
        started.close()


def test_quickstart_key_is_made_at_the_first_start_only(
    clarion: Clarion, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_quickstart(clarion)
    first = capsys.readouterr().out
    (made,) = clarion.keys.active_named(QUICKSTART_KEY)
    assert f"New access key: {made.access_key_id}  secret: " in first

    _print_quickstart(clarion)
    again = capsys.readouterr().out
    assert [k.access_key_id for k in clarion.keys.active_named(QUICKSTART_KEY)] == [
        made.access_key_id
    ]
    assert f"Access key: {made.access_key_id}" in again
    assert "secret was printed at the first start" in again
    assert "keys create" in again
    assert "/healthz" in again and "Pinpoint API endpoint" in again

    clarion.keys.revoke(made.access_key_id)
    _print_quickstart(clarion)
    assert "New access key:" in capsys.readouterr().out, "a revoked key is not offered"


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        ("", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("https://clarion.example.com", False),
    ],
)
def test_loopback_tracking_links_are_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, public_url: str, warned: bool
) -> None:
    with caplog.at_level(logging.WARNING):
        _warn_of_loopback_tracking(Clarion(load_settings(data_dir=tmp_path, public_url=public_url)))
    assert ("CLARION_PUBLIC_URL" in caplog.text) is warned


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CLARION_PORT", "eighty", "expected a valid integer"),
        ("CLARION_PORT", "99999", "65535"),
        ("CLARION_FILE_ROOTS", '["/data"', "expected a JSON list or directories separated"),
        ("CLARION_LOG_LEVEL", "loud", "expected one of debug, info, warning, error"),
        ("CLARION_ACCOUNT_ID", "12", "expected 12 digits"),
        ("CLARION_OUTBOUND_ALLOW", "not-a-network", "not an IP address"),
        ("CLARION_DATABASE_URL", "mysql://me:hunter2@db/clarion", "expected postgresql://"),
        ("CLARION_PUBLIC_URL", "clarion.example.com", "expected an http:// or https:// URL"),
    ],
)
def test_a_bad_setting_is_named_with_its_value_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(BadSetting) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{variable} is ")
    assert expected in message
    assert "hunter2" not in message


def test_a_bad_value_in_the_config_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "clarion.toml"
    toml.write_text('port = "eighty"\n')
    monkeypatch.setenv("CLARION_CONFIG_FILE", str(toml))
    monkeypatch.delenv("CLARION_PORT", raising=False)
    with pytest.raises(BadSetting, match=f"port in {toml} is 'eighty'"):
        load_settings()
    toml.write_text("port = \n")
    with pytest.raises(BadSetting, match="is not TOML"):
        load_settings()
    monkeypatch.setenv("CLARION_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(BadSetting, match="expected a TOML file"):
        load_settings()


@pytest.mark.parametrize("command", ["serve", "keys", "import", "export"])
def test_every_command_ends_a_bad_setting_with_one_line_and_status_2(
    tmp_path: Path, command: str
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("Address,ChannelType\na@example.com,EMAIL\n")
    args = {
        "serve": ["serve"],
        "keys": ["keys", "list"],
        "import": ["import", str(rows), "--app", "a"],
        "export": ["export", "--app", "a", str(tmp_path / "out.json")],
    }[command]
    done = subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=_clean_env(CLARION_DATA_DIR=str(tmp_path), CLARION_FILE_ROOTS='["/data"'),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert "CLARION_FILE_ROOTS" in done.stderr and '["/data"' in done.stderr


def test_list_settings_take_the_path_form_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARION_FILE_ROOTS", f"/srv/a{os.pathsep}/srv/b")
    assert load_settings().file_roots == [Path("/srv/a"), Path("/srv/b")]
    monkeypatch.setenv("CLARION_FILE_ROOTS", '["/srv/a", "/srv/b"]')
    assert load_settings().file_roots == [Path("/srv/a"), Path("/srv/b")]
    monkeypatch.setenv("CLARION_FILE_ROOTS", "")
    assert load_settings().file_roots == []


@pytest.mark.parametrize("args", [["--help"], ["keys", "--help"]])
def test_help_loads_neither_the_server_nor_the_core(args: list[str]) -> None:
    heavy = ["uvicorn", "clarion.core", "clarion.app", "clarion.config", "rich.progress"]
    script = (
        "import sys\n"
        "from clarion.cli import cli\n"
        "try:\n"
        "    cli(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Usage" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
