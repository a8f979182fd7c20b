"""Fixtures of the OpAMP tests (the helpers are in opamp_testlib.py)."""

from opamp_testlib import server  # noqa: F401 - the fixture
