"""The `tiergate` command: serve, sim, route, replay, check-config."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from app.worker_count import parse_worker_option, worker_count

logger = logging.getLogger("tiergate")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiergate", description="Cost-aware LLM gateway")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="YAML file merged over the bundled default")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=parse_worker_option,
        default="auto",
        help="worker processes, or auto: one per usable CPU when governance is shared in Redis, "
        "else 1 (default: auto)",
    )
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)

    sim = commands.add_parser("sim", help="run the standalone simulated upstream")
    sim.add_argument("--config", help="take the catalog from this gateway config")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=9100)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--latency-scale", type=float, default=1.0)
    sim.add_argument("--faults", help="fault book as JSON text or a path to a JSON file")
    sim.add_argument("--name", default="sim", help="upstream name used for fault lookup")
    sim.add_argument("--stream-chunks", type=int, help="exact content chunks per streamed choice")
    sim.set_defaults(handler=_sim)

    route = commands.add_parser("route", help="explain where a prompt would be routed (no call)")
    route.add_argument("prompt")
    route.add_argument("--model", default="auto", help="model, alias or route name")
    route.add_argument("--tier", help="tier hint, as the x-tiergate-tier header")
    route.add_argument("--config", help="YAML file merged over the bundled default")
    route.set_defaults(handler=_route)

    replay = commands.add_parser("replay", help="replay a JSONL workload through a gateway")
    replay.add_argument("workload", help="one OpenAI chat request per line (JSONL)")
    replay.add_argument("--gateway", required=True, help="the gateway's base URL")
    replay.add_argument("--api-key", help="bearer key for lines without their own")
    replay.add_argument(
        "--tenant-key",
        action="append",
        default=[],
        metavar="TENANT=KEY",
        help="the key to send for a line's `tenant` (repeatable)",
    )
    replay.add_argument("--concurrency", type=_positive_int, default=1)
    replay.add_argument("--seed", type=int, help="set as the `seed` of requests without one")
    replay.add_argument("--out", default="replay-report.html", help="HTML report ('' for none)")
    replay.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    replay.set_defaults(handler=_replay)

    check = commands.add_parser("check-config", help="validate a config file without starting")
    check.add_argument("file")
    check.set_defaults(handler=_check_config)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.upstream_factory import uses_simulator
    from infra.config_loader import ConfigError, load_settings
    from infra.governance_builder import redis_url
    from infra.logging_setup import configure_logging

    configure_logging(args.log_level)
    try:
        settings = load_settings(args.config)
        shared = redis_url(settings.governance) is not None
        workers = worker_count(args.workers, governance_shared=shared)
    except ConfigError as exc:
        print(f"tiergate: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings.server.host
    port = args.port if args.port is not None else settings.server.port
    if uses_simulator(settings):
        logger.warning("no upstream API key configured: serving from the in-process simulator")
    if args.config:
        os.environ["TIERGATE_CONFIG"] = args.config
    uvicorn.run(
        "app.factory:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        loop="uvloop",
        http="app.http_protocol:HttpToolsProtocol",
        access_log=False,
        log_level=args.log_level,
        lifespan="on",
    )
    return 0


def _sim(args: argparse.Namespace) -> int:
    """The standalone simulator, serving the gateway's own catalog."""
    from adapters.simulator import LatencyModel, SimulatorCore
    from adapters.simulator.__main__ import parse_faults
    from adapters.simulator.server import serve
    from infra.catalog_builder import build_catalog
    from infra.config_loader import ConfigError, load_settings
    from infra.logging_setup import configure_logging

    configure_logging()
    try:
        catalog = build_catalog(load_settings(args.config))
        faults = parse_faults(args.faults) if args.faults else None
    except (ConfigError, ValueError, argparse.ArgumentTypeError) as exc:
        print(f"tiergate: {exc}", file=sys.stderr)
        return 2
    core = SimulatorCore(
        catalog=catalog,
        seed=args.seed,
        latency=LatencyModel().scaled(args.latency_scale),
        faults=faults,
        stream_chunks=args.stream_chunks,
    )
    logger.info("simulated upstream %r on http://%s:%d", args.name, args.host, args.port)
    serve(host=args.host, port=args.port, core=core, name=args.name)
    return 0


def _route(args: argparse.Namespace) -> int:
    import asyncio

    import msgspec

    from app.route_cli import explain_prompt
    from domain.errors import GatewayError
    from infra.config_loader import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
        explanation = asyncio.run(explain_prompt(settings, args.prompt, args.model, args.tier))
    except (ConfigError, GatewayError) as exc:
        print(f"tiergate: {exc}", file=sys.stderr)
        return 2
    print(msgspec.json.format(msgspec.json.encode(explanation), indent=2).decode())
    return 0


def _replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.replay.command import ReplayOptions, run_replay
    from app.replay.driver import ReplayTarget

    tenant_keys = {}
    for pair in args.tenant_key:
        tenant, sep, key = pair.partition("=")
        if not sep or not tenant or not key:
            print(f"tiergate: --tenant-key wants TENANT=KEY, got {pair!r}", file=sys.stderr)
            return 2
        tenant_keys[tenant] = key
    target = ReplayTarget(
        gateway=args.gateway,
        api_key=args.api_key,
        tenant_keys=tenant_keys,
        timeout_s=args.timeout,
    )
    options = ReplayOptions(
        workload=Path(args.workload),
        target=target,
        concurrency=args.concurrency,
        seed=args.seed,
        out=Path(args.out) if args.out else None,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    return run_replay(options)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _check_config(args: argparse.Namespace) -> int:
    from infra.catalog_builder import build_catalog
    from infra.config_loader import ConfigError, load_settings

    try:
        settings = load_settings(args.file)
        catalog = build_catalog(settings)
    except ConfigError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.file}: ok ({len(catalog)} models, {len(settings.upstreams)} upstreams)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
