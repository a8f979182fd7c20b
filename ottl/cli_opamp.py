"""``ottl opamp``: the OpAMP graduation server and its operator commands.

    ottl opamp serve [--host 127.0.0.1] [--port 4320] [--db opamp.db]
                     [--config FILE] [--rollout FILE] [--admin-token T]
    ottl opamp rollout start FILE      [--server URL]
    ottl opamp rollout inspect|pause|resume|abort [--server URL]
    ottl opamp agents [--json]         [--server URL]

``serve`` binds to 127.0.0.1 unless told otherwise; ``--config`` makes a transform/filter YAML
file the configuration every agent runs outside rollouts; ``--rollout`` starts the rollout file
(docs/opamp.md) unless that rollout is already known. The other commands talk to a running
server's admin API (``/v1/admin/...``, loopback only unless the server has an admin token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from typing import Any, Optional, TextIO

DEFAULT_SERVER = "http://127.0.0.1:4320"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="opamp_command", required=True)
    serve = sub.add_parser("serve", help="run the OpAMP server (HTTP and WebSocket)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=4320, help="port (default 4320, 0: any)")
    serve.add_argument("--path", default="/v1/opamp", help="OpAMP path (default /v1/opamp)")
    serve.add_argument("--db", default="opamp.db", help="SQLite state file (default opamp.db)")
    serve.add_argument("--config", help="a transform/filter YAML every agent runs by default")
    serve.add_argument("--rollout", help="a rollout file to start")
    serve.add_argument("--admin-token", default=os.environ.get("OTTL_OPAMP_ADMIN_TOKEN"),
                       help="require this bearer token on the admin API (default: loopback "
                            "only; env OTTL_OPAMP_ADMIN_TOKEN)")
    serve.add_argument("--max-connections", type=int, default=4096)
    rollout = sub.add_parser("rollout", help="start, inspect, pause, resume or abort a rollout")
    rollout.add_argument("action", choices=("start", "inspect", "pause", "resume", "abort"))
    rollout.add_argument("file", nargs="?", help="the rollout file (start)")
    agents = sub.add_parser("agents", help="list agents with their state")
    agents.add_argument("--json", action="store_true", help="print JSON")
    for p in (rollout, agents):
        p.add_argument("--server", default=os.environ.get("OTTL_OPAMP_SERVER", DEFAULT_SERVER),
                       help=f"the server (default {DEFAULT_SERVER}; env OTTL_OPAMP_SERVER)")
        p.add_argument("--admin-token", default=os.environ.get("OTTL_OPAMP_ADMIN_TOKEN"))


def run(args: argparse.Namespace, out: Optional[TextIO] = None,
        err: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.opamp_command == "serve":
            return _serve(args, out, err)
        if args.opamp_command == "rollout":
            return _rollout(args, out)
        return _agents(args, out)
    except (ValueError, OSError) as exc:
        print(f"ottl opamp: {exc}", file=err)
        return 1


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import time

    from opamp.configs import ConfigVersion
    from opamp.rollout_file import load_rollout
    from opamp.selector import LabelSelector
    from opamp.server import OpAMPServer
    from opamp.store import Store

    store = Store(args.db)
    controller = store.load(now=time.time())
    if args.config:
        with open(args.config, "rb") as fh:
            config = ConfigVersion.of({os.path.basename(args.config):
                                       ("application/yaml", fh.read())})
        h = controller.add_config(config)
        if not controller.assignments or controller.assignments[0][1] != h:
            if not controller.assignments:
                controller.assign(LabelSelector.everything(), h)
            else:
                controller.assignments.insert(0, (LabelSelector.everything(), h))
                controller.dirty_configs = True
    if args.rollout:
        spec = load_rollout(args.rollout)
        known = {r.id for r in controller.history} | (
            {controller.rollout.id} if controller.rollout else set())
        if spec.id not in known or (controller.rollout and controller.rollout.id == spec.id
                                    and controller.rollout.active):
            controller.start_rollout(spec.id, spec.selector, spec.strategy, spec.config,
                                     time.time(), spec.previous)
    store.save(controller)
    server = OpAMPServer(controller, store, host=args.host, port=args.port, path=args.path,
                         admin_token=args.admin_token, max_connections=args.max_connections)

    async def main() -> None:
        port = await server.start()
        print(f"ottl opamp: serving OpAMP on http://{args.host}:{port}{args.path} "
              f"(HTTP and WebSocket), state in {args.db}", file=out, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        await stop.wait()
        await server.close()

    asyncio.run(main())
    store.close()
    return 0


def _call(args: argparse.Namespace, method: str, action: str,
          body: Optional[dict[str, Any]] = None) -> Any:
    url = args.server.rstrip("/")
    if url.endswith("/v1/opamp"):
        url = url[: -len("/v1/opamp")]
    req = urllib.request.Request(f"{url}/v1/admin/{action}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if args.admin_token:
        req.add_header("Authorization", f"Bearer {args.admin_token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip()
        try:
            detail = json.loads(detail)["error"]
        except (ValueError, KeyError, TypeError):
            pass
        raise ValueError(f"server answered {exc.code}: {detail}") from None


def _rollout(args: argparse.Namespace, out: TextIO) -> int:
    import yaml

    from opamp.rollout_file import inline

    if args.action == "start":
        if not args.file:
            raise ValueError("rollout start needs the rollout file")
        with open(args.file, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        result = _call(args, "POST", "rollout",
                       inline(doc, os.path.dirname(os.path.abspath(args.file))))
    elif args.action == "inspect":
        result = _call(args, "GET", "rollout")
    else:
        result = _call(args, "POST", f"rollout/{args.action}")
    print(json.dumps(result, indent=2), file=out)
    return 0


def _agents(args: argparse.Namespace, out: TextIO) -> int:
    agents = _call(args, "GET", "agents")
    if args.json:
        print(json.dumps(agents, indent=2), file=out)
        return 0
    print(f"{'uid':32}  {'state':12}  {'transport':9}  {'config':12}  labels", file=out)
    for a in agents:
        labels = ",".join(f"{k}={v}" for k, v in sorted(a["labels"].items()))
        print(f"{a['uid']:32}  {a['state']:12}  {a['transport']:9}  "
              f"{a['reported_hash'][:12]:12}  {labels}", file=out)
    return 0
