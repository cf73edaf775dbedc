"""The benchmark's tools: wrk from Debian; a separate venv with LiteLLM (and aiohttp) and py-spy."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

# 1.106.3 .. 1.106.10 (and 1.107+) need certifi>=2026.10.19, which the package index here lacks;
# 1.106.2 is the newest 1.106 release that installs.
LITELLM_VERSION = os.environ.get("TIERGATE_BENCH_LITELLM", "1.106.2")


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or "/tmp") / "tiergate-bench"


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    print("installing wrk (apt-get)", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, timeout=600, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, check=True)
        subprocess.run(install, capture_output=True, timeout=600, check=True)


def tools_venv() -> Path:
    """A venv with litellm[proxy] and py-spy, created once per LiteLLM version (~1 minute)."""
    venv = cache_dir() / f"litellm-{LITELLM_VERSION}"
    marker = venv / ".complete"
    if marker.exists():
        return venv
    print(f"creating {venv} with litellm[proxy]=={LITELLM_VERSION} and py-spy", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, f"litellm[proxy]=={LITELLM_VERSION}", "py-spy"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR")]
        raise RuntimeError(f"installing LiteLLM failed: {' '.join(errors)[-600:]}")
    marker.touch()
    return venv


def version_of(python: Path | str, module: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({module!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


def machine_facts() -> dict[str, str]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def git_revision(root: Path) -> str:
    def git(*args: str) -> list[str]:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.splitlines()

    commit = next(iter(git("rev-parse", "--short", "HEAD")), "?")
    dirty = [line[3:] for line in git("status", "--porcelain")]
    if not dirty:
        return commit
    shown = ", ".join(dirty[:6]) + (f" and {len(dirty) - 6} more" if len(dirty) > 6 else "")
    return f"{commit} plus uncommitted changes in the work tree ({shown})"
