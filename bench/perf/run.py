"""The driver: start everything pinned, run the steps, stop what it started, write the report."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from bench.perf import report
from bench.perf.hotpath import Profile, profile
from bench.perf.loadgen import wrk_version
from bench.perf.matrix import MODES, UPSTREAM_MODEL, Cell, Target, measure, preflight, write_bodies
from bench.perf.procs import Service, ServiceGroup, free_port
from bench.perf.soak import SoakResult, soak
from bench.perf.tools import (
    LITELLM_VERSION,
    cache_dir,
    ensure_wrk,
    git_revision,
    load_average,
    machine_facts,
    tools_venv,
    version_of,
)

ROOT = Path(__file__).resolve().parents[2]
STEPS = (
    "direct",
    "passthrough",
    "floor",
    "tiergate",
    "cache",
    "traced",
    "litellm",
    "scaling",
    "profile",
)
# The gateway reads these; the benchmark measures it as shipped, so none may leak in.
_GATEWAY_ENV_DROPPED = ("TIERGATE_CONFIG", "TIERGATE_REDIS_URL", "TIERGATE_SIM_LATENCY_SCALE")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__)
    parser.add_argument("--only", default=",".join(STEPS), help=f"steps among {','.join(STEPS)}")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per target and mode")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument("--soak", type=float, default=0.0, help="also soak this many seconds")
    parser.add_argument("--gateway-cpus", default="0")
    parser.add_argument("--load-cpus", default="1", help="wrk and the simulated upstream")
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-doc", action="store_true", help="print only, leave the doc alone")
    parser.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="only rewrite the doc from a run (print it with --no-doc)",
    )
    return parser.parse_args(argv)


class Bench:
    """One run: the services it started, and what it measured."""

    def __init__(self, args: argparse.Namespace, run_dir: Path) -> None:
        self.args = args
        self.run_dir = run_dir
        self.group = ServiceGroup(run_dir)
        self.bodies = write_bodies(run_dir)
        self.concurrencies = tuple(int(c) for c in args.concurrency.split(","))
        self.cells: list[Cell] = []
        self.scaling: list[Cell] = []
        self.profiles: list[Profile] = []
        self.soak: SoakResult | None = None
        self.idle_rss: dict[str, float] = {}
        self.notes: list[str] = []
        self.upstream_url = ""

    def start_simulator(self) -> Service:
        port = free_port()
        self.upstream_url = f"http://127.0.0.1:{port}/v1"
        argv = [
            str(ROOT / ".venv/bin/tiergate"),
            "sim",
            "--latency-scale",
            "0",
            "--stream-chunks",
            "20",
            "--port",
            str(port),
        ]
        return self.group.start(
            "simulator", argv, cpus=self.args.load_cpus, ready_url=f"{self.upstream_url}/models"
        )

    def start_gateway(
        self, *, workers: int, cpus: str, extra_env: dict[str, str] | None = None
    ) -> tuple[Service, Target]:
        port = free_port()
        env = {
            "TIERGATE_UPSTREAM_BASE_URL": self.upstream_url,
            "TIERGATE_UPSTREAM_API_KEY": "x",
            "TIERGATE_UPSTREAM_MODE": "http",
            **(extra_env or {}),
        }
        argv = [
            str(ROOT / ".venv/bin/tiergate"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        service = self.group.start(
            f"tiergate-w{workers}",
            argv,
            cpus=cpus,
            env=env,
            cwd=ROOT,
            ready_url=f"http://127.0.0.1:{port}/healthz",
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        return service, Target("tiergate", "tiergate", url, self.bodies["gateway"])

    def start_litellm(self, venv: Path) -> tuple[Service, Target]:
        port = free_port()
        config = self.run_dir / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: auto\n"
            "    litellm_params:\n"
            f"      model: openai/{UPSTREAM_MODEL}\n"
            f"      api_base: {self.upstream_url}\n"
            "      api_key: x\n"
        )
        env = {
            # No master key and no database: open like tiergate's open mode, nothing persisted.
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no price-list download at start-up
            "LITELLM_LOG": "ERROR",
        }
        argv = [
            str(venv / "bin/litellm"),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ]
        service = self.group.start(
            "litellm",
            argv,
            cpus=self.args.gateway_cpus,
            env=env,
            cwd=self.run_dir,
            ready_url=f"http://127.0.0.1:{port}/health/liveliness",
            timeout_s=180,
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        return service, Target("litellm", "LiteLLM", url, self.bodies["gateway"])

    def start_passthrough(self, venv: Path) -> tuple[Service, Target]:
        script = [str(venv / "bin/python"), str(Path(__file__).with_name("passthrough.py"))]
        return self._start_relay("passthrough", "aiohttp pass-through", script)

    def start_floor(self) -> tuple[Service, Target]:
        module = [str(ROOT / ".venv/bin/python"), "-m", "bench.perf.stack_floor"]
        return self._start_relay("floor", "stack floor", module, cwd=ROOT)

    def _start_relay(
        self, key: str, label: str, command: list[str], *, cwd: Path | None = None
    ) -> tuple[Service, Target]:
        """A featureless relay to the simulator on the gateway core, fed the upstream's body."""
        port = free_port()
        argv = [*command, "--port", str(port), "--upstream", self.upstream_url]
        service = self.group.start(
            key,
            argv,
            cpus=self.args.gateway_cpus,
            cwd=cwd,
            ready_url=f"http://127.0.0.1:{port}/healthz",
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        return service, Target(key, label, url, self.bodies["upstream"])

    def sweep(
        self, target: Target, service: Service, *, concurrencies: tuple[int, ...] | None = None
    ) -> list[Cell]:
        for mode in MODES:
            preflight(target, mode)
        self.idle_rss.setdefault(target.key, service.rss_mib())
        return measure(
            target,
            service,
            modes=MODES,
            concurrencies=concurrencies or self.concurrencies,
            reps=self.args.reps,
            duration_s=self.args.duration,
            warmup_s=self.args.warmup,
            load_cpus=self.args.load_cpus,
        )

    def run(self, steps: set[str]) -> None:
        sim = self.start_simulator()
        if "direct" in steps:
            print("direct: wrk -> simulator", flush=True)
            direct = Target(
                "direct", "direct", f"{self.upstream_url}/chat/completions", self.bodies["upstream"]
            )
            self.cells += self.sweep(direct, sim)
        venv = tools_venv() if steps & {"passthrough", "litellm"} else None
        if "passthrough" in steps and venv is not None:
            print("passthrough: wrk -> aiohttp pass-through -> simulator", flush=True)
            service, target = self.start_passthrough(venv)
            self.cells += self.sweep(target, service)
            self.group.stop(service)
        if "floor" in steps:
            print("floor: wrk -> uvicorn + httpx adapter, no features -> simulator", flush=True)
            service, target = self.start_floor()
            self.cells += self.sweep(target, service)
            self.group.stop(service)
        if steps & {"tiergate", "cache", "profile"}:
            self.tiergate_steps(steps)
        if "traced" in steps:
            self.traced_step()
        if "litellm" in steps and venv is not None:
            print("litellm: wrk -> LiteLLM proxy -> simulator", flush=True)
            service, target = self.start_litellm(venv)
            self.cells += self.sweep(target, service)
            self.group.stop(service)
        if "scaling" in steps:
            self.scaling_step()
        if self.args.soak > 0:
            self.soak_step()

    def tiergate_steps(self, steps: set[str]) -> None:
        service, target = self.start_gateway(workers=1, cpus=self.args.gateway_cpus)
        if "tiergate" in steps:
            print("tiergate: wrk -> tiergate (cache miss path) -> simulator", flush=True)
            self.cells += self.sweep(target, service)
        if "cache" in steps:
            print("cache: wrk -> tiergate (exact cache hits, temperature 0)", flush=True)
            hit = Target(
                "tiergate-hit", "tiergate, cache hit", target.url, self.bodies["cache_hit"]
            )
            for mode in MODES:
                state = preflight(hit, mode, repeat=3).get("x-tiergate-cache", "?")
                if state != "hit":
                    self.notes.append(f"cache-hit scenario, {mode}: x-tiergate-cache is {state!r}")
            self.cells += self.sweep(hit, service)
        if "profile" in steps and self.args.profile_seconds > 0:
            py_spy = tools_venv() / "bin/py-spy"
            for mode in MODES:
                print(f"profile: py-spy on tiergate, {mode}, c=16", flush=True)
                self.profiles.append(
                    profile(
                        py_spy,
                        target,
                        service,
                        mode=mode,
                        seconds=self.args.profile_seconds,
                        connections=16,
                        load_cpus=self.args.load_cpus,
                        run_dir=self.run_dir,
                    )
                )
        self.group.stop(service)

    def traced_step(self) -> None:
        """The miss path with every request traced (sampler always on) and exported over
        OTLP/HTTP by the batch span processor to a sink on the load core."""
        port = free_port()
        sink_argv = [sys.executable, str(Path(__file__).with_name("otlp_sink.py")), str(port)]
        stats_url = f"http://127.0.0.1:{port}/stats"
        sink = self.group.start(
            "otlp-sink", sink_argv, cpus=self.args.load_cpus, ready_url=stats_url
        )
        otlp = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        }
        print("traced: wrk -> tiergate (miss path, every request traced to OTLP)", flush=True)
        service, target = self.start_gateway(workers=1, cpus=self.args.gateway_cpus, extra_env=otlp)
        traced = Target("tiergate-traced", "tiergate, traced", target.url, target.bodies)
        self.cells += self.sweep(traced, service)
        self.group.stop(service)  # flushes the last spans
        with urllib.request.urlopen(stats_url, timeout=5) as answer:
            stats = json.load(answer)
        self.notes.append(
            f"traced scenario: the OTLP sink received {stats['exports']} span exports "
            f"({stats['bytes'] / 1e6:.1f} MB)"
        )
        self.group.stop(sink)

    def scaling_step(self) -> None:
        both = f"{self.args.gateway_cpus},{self.args.load_cpus}"
        for workers in (1, 2):
            print(f"scaling: tiergate --workers {workers} on cpus {both}", flush=True)
            service, target = self.start_gateway(workers=workers, cpus=both)
            scaled = Target(
                f"tiergate-x{workers}", f"{workers} worker(s)", target.url, target.bodies
            )
            self.scaling += self.sweep(scaled, service, concurrencies=(64,))
            self.group.stop(service)

    def soak_step(self) -> None:
        service, target = self.start_gateway(workers=1, cpus=self.args.gateway_cpus)
        mix = [
            self.bodies["gateway"]["json"],
            self.bodies["gateway"]["sse"],
            self.bodies["cache_hit"]["json"],
        ]
        self.soak = soak(
            service,
            target.url,
            mix,
            seconds=self.args.soak,
            load_cpus=self.args.load_cpus,
            warmup_s=min(60.0, max(10.0, self.args.soak / 10)),
        )
        self.group.stop(service)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.render:
        sections = report.render(json.loads(Path(args.render).read_text()))
        if args.no_doc:
            print(report.console(sections))
            return 0
        report.update_doc(Path(args.doc), sections)
        print(f"updated {args.doc} from {args.render}")
        return 0
    steps = {s.strip() for s in args.only.split(",") if s.strip()}
    if unknown := steps - set(STEPS) - {"soak"}:
        raise SystemExit(f"unknown steps: {sorted(unknown)}")
    if "soak" in steps and args.soak <= 0:
        args.soak = 600.0
    for name in _GATEWAY_ENV_DROPPED:
        os.environ.pop(name, None)
    os.environ["OTEL_TRACES_EXPORTER"] = "none"  # the shipped default: no-op tracer provider
    ensure_wrk()
    run_dir = cache_dir() / time.strftime("run-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"run directory: {run_dir}", flush=True)
    started = time.time()
    load_before = load_average()
    bench = Bench(args, run_dir)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        bench.run(steps)
    finally:
        bench.group.close()
    venv = cache_dir() / f"litellm-{LITELLM_VERSION}"
    meta = {
        **machine_facts(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(started)),
        "minutes": f"{(time.time() - started) / 60:.1f}",
        "load_before": load_before,
        "load_after": load_average(),
        "tiergate": git_revision(ROOT),
        "litellm": version_of(venv / "bin/python", "litellm") if venv.exists() else "not installed",
        "wrk": wrk_version(),
        "uvicorn": version_of(ROOT / ".venv/bin/python", "uvicorn"),
        "litestar": version_of(ROOT / ".venv/bin/python", "litestar"),
        "httpx": version_of(ROOT / ".venv/bin/python", "httpx"),
        "aiohttp": version_of(ROOT / ".venv/bin/python", "aiohttp"),
        "command": "make bench  # = .venv/bin/python -m bench.perf "
        + " ".join(argv or sys.argv[1:]),
        "args": vars(args),
    }
    results = {
        "meta": meta,
        "cells": [c.to_json() for c in bench.cells],
        "scaling": [c.to_json() for c in bench.scaling],
        "idle_rss_mib": bench.idle_rss,
        "profiles": [{**asdict(p), "raw_path": str(p.raw_path)} for p in bench.profiles],
        "soak": asdict(bench.soak) if bench.soak else None,
        "notes": bench.notes,
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    sections = report.render(results)
    print(report.console(sections))
    if not args.no_doc:
        report.update_doc(Path(args.doc), sections)
        print(f"updated {args.doc}")
    print(f"raw results: {run_dir / 'results.json'}")
    return 0
