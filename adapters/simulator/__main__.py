"""`python -m adapters.simulator`: run the simulated upstream as an HTTP server."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import msgspec

from adapters.simulator.catalog import default_sim_catalog
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultBook
from adapters.simulator.latency import LatencyModel
from adapters.simulator.server import serve


def parse_faults(value: str) -> FaultBook:
    """A FaultBook from inline JSON or from the path of a JSON file."""
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text()
        return FaultBook.from_json(text)
    except (OSError, msgspec.DecodeError) as exc:
        raise argparse.ArgumentTypeError(f"bad fault book: {exc}") from exc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.simulator",
        description="OpenAI-compatible simulated upstream for tiergate.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--latency-scale", type=float, default=1.0, help="0 disables every simulated delay"
    )
    parser.add_argument("--faults", type=parse_faults, default=None, help="FaultBook JSON or path")
    parser.add_argument("--name", default="sim", help="upstream name used for fault lookup")
    parser.add_argument(
        "--stream-chunks", type=int, default=None, help="exact content chunks per streamed choice"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    core = SimulatorCore(
        catalog=default_sim_catalog(),
        seed=args.seed,
        latency=LatencyModel().scaled(args.latency_scale),
        faults=args.faults,
        stream_chunks=args.stream_chunks,
    )
    logging.getLogger(__name__).info(
        "tiergate simulator %r on http://%s:%d (seed %d, latency x%g)",
        args.name,
        args.host,
        args.port,
        args.seed,
        args.latency_scale,
    )
    serve(host=args.host, port=args.port, core=core, name=args.name)


if __name__ == "__main__":
    main()
