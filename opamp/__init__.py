"""OpAMP graduation: staged, health-gated rollout of OTTL configurations over OpAMP.

Pure Python. The pieces, in the order they depend on each other:

* ``opamp.selector``: Kubernetes label selectors over agent attributes;
* ``opamp.strategy``: steps, bounds, health gates and deterministic cohorts;
* ``opamp.controller``: the rollout state machine (no I/O, no clock);
* ``opamp.store``: SQLite persistence of the controller;
* ``opamp.proto``: the OpAMP protobuf messages; ``opamp.wire``: messages <-> controller;
* ``opamp.server``: the OpAMP server (HTTP and WebSocket on one port);
* ``opamp.agent``: the agent side for the OTTL engine.

See docs/opamp.md.
"""

__all__ = ["selector", "strategy", "controller", "configs"]
