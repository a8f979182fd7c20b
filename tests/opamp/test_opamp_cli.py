"""``ottl opamp``: serve in a subprocess, drive it with the operator commands."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from opamp.agent import AgentCore, EngineHost, HttpAgent
from opamp.rollout_file import RolloutFileError, load_rollout
from ottl.cli import main
from opamp_testlib import NEW_YAML, OLD_YAML, wait_for

ROLLOUT = """id: cli-{n}
selector:
  matchLabels: {{service.name: cli}}
config:
  ottl.yaml: {{content_type: application/yaml, path: new.yaml}}
strategy:
  steps:
    - {{weight: 0.5, bake_seconds: 3600}}
    - {{weight: 1.0}}
  gates:
    - {{metric: error_rate, max: 0.5}}
"""


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture
def served(tmp_path: Path):
    (tmp_path / "old.yaml").write_bytes(OLD_YAML)
    (tmp_path / "new.yaml").write_bytes(NEW_YAML)
    (tmp_path / "r1.yaml").write_text(ROLLOUT.format(n=1))
    # The same ottl and opamp this test imported (installed, or a built checkout), and a
    # working directory where no source checkout shadows them.
    import ottl

    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(ottl.__file__)))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ottl.cli import main; sys.exit(main())",
         "opamp", "serve", "--port", "0", "--db", str(tmp_path / "s.db"),
         "--config", str(tmp_path / "old.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        assert "serving OpAMP on http://127.0.0.1:" in line, (line, proc.stderr.read())
        url = line.split(" on ")[1].split(" ")[0]
        yield tmp_path, url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert proc.returncode == 0, proc.stderr.read()


def test_serve_and_operate(served) -> None:
    tmp_path, url = served
    server = url.rsplit("/v1/opamp", 1)[0]
    agents = [HttpAgent(AgentCore(EngineHost(), {"service.name": "cli",
                                                 "service.instance.id": str(i)}),
                        url, interval=0.2) for i in range(4)]
    for a in agents:
        a.start()
    try:
        wait_for(lambda: all(a.core.host.config is not None for a in agents),
                 what="agents configured")
        code, out = cli("opamp", "agents", "--server", server)
        assert code == 0 and len(out.splitlines()) == 5
        assert "service.name=cli" in out
        code, out = cli("opamp", "rollout", "start", str(tmp_path / "r1.yaml"),
                        "--server", server)
        assert code == 0 and json.loads(out)["id"] == "cli-1"
        wait_for(lambda: sum(a.core.host.config.files[0][2] == NEW_YAML for a in agents) == 2,
                 what="half the agents on the new config")
        assert cli("opamp", "rollout", "pause", "--server", server)[0] == 0
        code, out = cli("opamp", "rollout", "inspect", "--server", server)
        doc = json.loads(out)
        assert doc["rollout"]["phase"] == "paused" and doc["rollout"]["members"] == 2
        assert cli("opamp", "rollout", "resume", "--server", server)[0] == 0
        code, out = cli("opamp", "rollout", "abort", "--server", server)
        assert json.loads(out)["phase"] == "rolled_back"
        wait_for(lambda: all(a.core.host.config.files[0][2] == OLD_YAML for a in agents),
                 what="everyone back on the old config")
        code, out = cli("opamp", "agents", "--json", "--server", server)
        assert {a["state"] for a in json.loads(out)} <= {"rolled_back", "applied",
                                                         "configuring"}
        # A second start with the same id is refused with the controller's reason.
        code = main(["opamp", "rollout", "start", str(tmp_path / "r1.yaml"),
                     "--server", server])
        assert code == 1
    finally:
        for a in agents:
            a.stop()


def test_rollout_file_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: x\nconfig: {a: {body: y}}\n")
    with pytest.raises(RolloutFileError, match="selector is required"):
        load_rollout(str(tmp_path / "bad.yaml"))
    (tmp_path / "bad2.yaml").write_text(
        "id: x\nselector: {}\nconfig: {a: {body: y}}\nstrategy: {steps: [{weight: 0.5}]}\n")
    with pytest.raises(RolloutFileError, match="must be 1.0"):
        load_rollout(str(tmp_path / "bad2.yaml"))
    (tmp_path / "bad3.yaml").write_text(
        "id: x\nselector: {}\nconfig: {a: {path: missing.yaml}}\n"
        "strategy: {steps: [{weight: 1.0}]}\n")
    with pytest.raises(RolloutFileError, match="missing.yaml"):
        load_rollout(str(tmp_path / "bad3.yaml"))


def test_admin_token_is_required_when_set() -> None:
    import urllib.error
    import urllib.request

    from opamp_testlib import make_server

    t = make_server(admin_token="s3cret")
    try:
        base = f"http://127.0.0.1:{t.server.port}/v1/admin/agents"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base, timeout=10)
        assert info.value.code == 401
        req = urllib.request.Request(base, headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read()) == []
    finally:
        t.stop()


def test_admin_api_reads_no_files_on_the_server(server) -> None:
    import urllib.error
    import urllib.request

    doc = {"id": "p", "selector": {}, "config": {"a": {"path": "/etc/hostname"}},
           "strategy": {"steps": [{"weight": 1.0}]}}
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.server.port}/v1/admin/rollout", method="POST",
        data=json.dumps(doc).encode(), headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 400
    assert "inline" in json.loads(info.value.read())["error"]
    assert server.call(lambda: server.server.controller.rollout) is None
