"""The ``ottl`` command.

``ottl check [FILE|-]`` validates OTTL: a file of statements and conditions (one per line, ``#``
comments), or a collector config with transform/filter processors (YAML). It prints each one's
parse and resolution (``--quiet``: only errors), every error with a caret under the spot, and
exits 1 if anything failed. With no FILE it checks the built-in examples.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from typing import Optional, Sequence, TextIO

from ottl import __version__
from ottl.config import ConfigError, Group, load_config
from ottl.contexts import CONTEXTS
from ottl.frontend import Checked, check_group, resolve_condition, resolve_statement
from ottl.lang.dump import dump
from ottl.lang.errors import OttlError, OttlSyntaxError
from ottl.lang.parser import parse_condition, parse_statement
from ottl.resolved import describe

EXAMPLES = "statements.ottl"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="ottl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ottl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate statements, conditions or a collector config")
    check.add_argument("file", nargs="?", help="a .ottl file, a YAML config, or - for stdin "
                       "(default: the built-in examples)")
    check.add_argument("--context", choices=sorted(CONTEXTS),
                       help="context of a plain statements file (default: inferred per line)")
    check.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    for name, what in (("transform", "statement"), ("filter", "condition")):
        sub_parser = sub.add_parser(
            name,
            help=f"run {name} {what}s over OTLP telemetry (default: built-in sample)",
            description=f"Run the {name} processor over an OTLP/JSON or OTLP protobuf document. "
            "Without --input, a built-in sample of a few services' spans and logs is used and a "
            "summary of what changed is printed.",
        )
        sub_parser.add_argument("--config", help="a collector config (YAML) with the processor")
        sub_parser.add_argument("--context", choices=sorted(CONTEXTS),
                                help=f"context of the --{what} arguments (default: inferred)")
        if name == "transform":
            sub_parser.add_argument("--statement", action="append", default=[], dest="texts",
                                    metavar="S", help="a statement (repeatable)")
            sub_parser.add_argument("--condition", action="append", default=[], metavar="C",
                                    dest="conditions", help="a condition gating the statements "
                                    "(repeatable, ORed)")
        else:
            sub_parser.add_argument("--condition", action="append", default=[], dest="texts",
                                    metavar="C", help="a condition; matching records are dropped "
                                    "(repeatable, ORed)")
        sub_parser.add_argument("--error-mode", choices=("ignore", "silent", "propagate"),
                                default="propagate")
        sub_parser.add_argument("--engine", choices=("fast", "reference"), default="fast",
                                help="fast: the C VM where the OTTL runs natively (the default); "
                                     "reference: the plain-Python evaluator only")
        sub_parser.add_argument("--input", help="OTLP/JSON or protobuf file, or - for stdin")
        sub_parser.add_argument("--output", help="where to write the result (default: stdout "
                                "with --input, nowhere for the built-in sample)")
        sub_parser.add_argument("--format", choices=("otlp-json", "otlp-proto"),
                                help="output format (default: the input's)")
    from ottl import cli_profile

    cli_profile.add_parser(sub)
    from ottl.cli_opamp import add_arguments as add_opamp_arguments

    add_opamp_arguments(sub.add_parser("opamp", help="the OpAMP graduation server: serve, "
                                       "rollouts, agents"))
    args = parser.parse_args(argv)
    try:
        if args.command == "opamp":
            from ottl.cli_opamp import run as run_opamp

            return run_opamp(args)
        if args.command == "check":
            return _check(args, sys.stdout, sys.stderr)
        if args.command in ("transform", "filter"):
            from ottl.cli_run import run_command

            return run_command(args, sys.stdout, sys.stderr)
        if args.command == "profile":
            return cli_profile.run(args, sys.stdout, sys.stderr)
    except BrokenPipeError:
        # The reader went away (`ottl check | head`): stop quietly, as Unix tools do.
        sys.stderr.close()
        return 1
    return 2  # pragma: no cover - argparse enforces the choices


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        name, text = _read(args.file)
    except OSError as exc:
        err.write(f"ottl check: cannot read {args.file}: {exc.strerror or exc}\n")
        return 2
    except UnicodeDecodeError as exc:
        err.write(f"ottl check: {args.file} is not UTF-8 text: {exc}\n")
        return 2
    if _looks_like_yaml(name, text):
        if args.context:
            err.write("ottl check: --context applies to statement files, not configs\n")
            return 2
        return _check_config(name, text, args.quiet, out, err)
    return _check_lines(name, text, args.context, args.quiet, out, err)


def _read(path: Optional[str]) -> tuple[str, str]:
    if path is None:
        return f"<built-in {EXAMPLES}>", (
            resources.files("ottl.examples").joinpath(EXAMPLES).read_text("utf-8")
        )
    if path == "-":
        return "<stdin>", sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return path, fh.read()


def _looks_like_yaml(name: str, text: str) -> bool:
    if name.endswith((".yaml", ".yml")):
        return True
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    return first.rstrip().endswith(":") and "(" not in first


def _check_lines(
    name: str, text: str, context: Optional[str], quiet: bool, out: TextIO, err: TextIO
) -> int:
    failures = total = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        total += 1
        try:
            tree, resolved = _resolve_line(line, context)
        except OttlError as exc:
            failures += 1
            exc.located(source=f"{name}:{lineno}")
            err.write(f"{exc}\n\n")
            continue
        if not quiet:
            out.write(f"{name}:{lineno}: {line}\n")
            out.write(_section("parse", dump(tree)))
            out.write(_section("resolution", describe(resolved)))
            out.write("\n")
    return _summary(total, failures, out, err)


def _resolve_line(line: str, context: Optional[str]):
    """A line is a statement if it parses as one, else a condition."""
    try:
        tree = parse_statement(line)
    except OttlSyntaxError as statement_error:
        try:
            tree = parse_condition(line)
        except OttlSyntaxError:
            raise statement_error from None
        return tree, _built(resolve_condition(line, context))
    return tree, _built(resolve_statement(line, context))


def _built(resolved):
    """Build the functions too, as the collector does at startup, where the context runs."""
    from ottl.frontend import EVALUATED_CONTEXTS, _build

    if resolved.context in EVALUATED_CONTEXTS:
        _build(resolved, None)
    return resolved


def _check_config(name: str, text: str, quiet: bool, out: TextIO, err: TextIO) -> int:
    try:
        groups = load_config(text, name)
    except ConfigError as exc:
        err.write(f"ottl check: {exc}\n")
        return 1
    failures = total = 0
    for group in groups:
        result = check_group(group, build=True)
        total += len(result.items)
        if not quiet:
            out.write(_group_header(group, result.context))
        if result.error:
            # The group could not be resolved at all: none of its items passed.
            failures += sum(1 for i in result.items if i.error is None)
            err.write(f"{name}: {group.where} (line {group.line}): {result.error}\n\n")
        for item in result.items:
            if item.error is not None:
                failures += 1
                err.write(f"{item.error}\n\n")
            elif not quiet and item.resolved is not None:
                _print_item(item, out)
    return _summary(total, failures, out, err)


def _group_header(group: Group, context: Optional[str]) -> str:
    how = "given" if group.context else "inferred"
    ctx = f"context {context} ({how})" if context else "context unknown"
    return f"== {group.where}: {group.kind}, {ctx}, error_mode {group.error_mode} ==\n"


def _print_item(item: Checked, out: TextIO) -> None:
    line = getattr(item.text, "line", 0)
    out.write(f"{item.role} (line {line}): {item.text}\n")
    out.write(_section("parse", dump(item.tree)))
    out.write(_section("resolution", describe(item.resolved)))
    out.write("\n")


def _section(title: str, body: str) -> str:
    return f"  {title}:\n" + "".join(f"    {ln}\n" for ln in body.splitlines())


def _summary(total: int, failures: int, out: TextIO, err: TextIO) -> int:
    ok = total - failures
    stream = err if failures else out
    stream.write(f"{ok} of {total} checked OK, {failures} with errors\n")
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
