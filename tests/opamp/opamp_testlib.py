"""Helpers of the OpAMP tests: configurations, a server on 127.0.0.1 (ephemeral port) in a
thread, and a polling wait. (A uniquely named module: every tests/ folder has a conftest.)"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import pytest

from opamp.configs import ConfigVersion
from opamp.controller import Controller
from opamp.selector import LabelSelector
from opamp.server import OpAMPServer, ServerThread

OLD_YAML = b"""transform:
  error_mode: ignore
  trace_statements:
    - set(span.attributes["config"], "old")
"""
NEW_YAML = b"""transform:
  error_mode: ignore
  trace_statements:
    - set(span.attributes["config"], "new")
    - set(span.attributes["parsed"], ParseJSON(span.attributes["payload"])) where span.attributes["payload"] != nil
"""
OLD = ConfigVersion.of({"ottl.yaml": ("application/yaml", OLD_YAML)})
NEW = ConfigVersion.of({"ottl.yaml": ("application/yaml", NEW_YAML)})


def make_server(store=None, port: int = 0, **kw) -> ServerThread:
    c = Controller() if store is None else store.load(now=time.time())
    if not c.assignments:
        c.add_config(OLD)
        c.assign(LabelSelector.everything(), OLD.hash)
    kw.setdefault("tick_seconds", 0.05)
    thread = ServerThread(OpAMPServer(c, store, port=port, **kw))
    thread.start()
    return thread


@pytest.fixture
def server() -> Iterator[ServerThread]:
    t = make_server()
    try:
        yield t
    finally:
        t.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll until ``predicate()`` holds; fail (not a timed assertion: a hang guard) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")
