#!/usr/bin/env bash
# Offline checks for everything under k8s/: no cluster, no docker.
#
#   1. kubectl kustomize renders k8s/base, every k8s/overlays/*, k8s/prometheus-adapter, k8s/grafana
#      (and so every component an overlay uses; each component must be used by one).
#   2. kubernetes-validate --strict on each rendered file, against the oldest Kubernetes the
#      manifests target and the newest schema kubernetes-validate ships.
#   3. Manifest policy: security context, probes, resources, no Secrets, HPA metrics served by the
#      adapter config.
#   4. promtool check rules + promtool test rules on the recording rules; the adapter's
#      metricsQuery strings must equal the recording rules (the p99 query lives in one place).
#   5. The Grafana dashboard is valid JSON, its PromQL parses, and it names only known metrics.
#
# Needs: kubectl (with built-in kustomize), the project venv (.venv, `uv sync`), and installs
# promtool (Debian package `prometheus`) and kubernetes-validate if they are missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VENV:-$ROOT/.venv}"
KUBERNETES_VALIDATE_VERSION="1.37.0"   # pinned in uv.lock as a dev dependency
K8S_OLDEST="1.30.0"      # oldest cluster the manifests target (preStop sleep action on by default)
K8S_TOLERANCE="1.35.0"   # first release with HPA per-direction tolerance on by default
K8S_NEWEST="1.37.0"      # newest schema kubernetes-validate 1.37.0 ships

log() { printf '==> %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------------
command -v kubectl >/dev/null || die "kubectl not found"

if ! command -v promtool >/dev/null; then
  log "installing promtool (apt package prometheus)"
  sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

[[ -x "$VENV/bin/python" ]] || die "no virtualenv at $VENV (run: uv sync)"
PY="$VENV/bin/python"
if ! "$PY" -c 'import kubernetes_validate' 2>/dev/null; then
  log "installing kubernetes-validate==$KUBERNETES_VALIDATE_VERSION into $VENV"
  if command -v uv >/dev/null; then
    uv pip install --quiet --python "$PY" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  else
    "$PY" -m pip install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
fi
KV=("$PY" -m kubernetes_validate)

log "kubectl $(kubectl version --client 2>/dev/null | head -n1 | awk '{print $3}'), \
kubernetes-validate $("${KV[@]}" --version 2>&1 | awk '{print $NF}'), \
promtool $(promtool --version 2>&1 | head -n1 | awk '{print $3}')"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# --- 1. render -------------------------------------------------------------------------------
targets=(base prometheus-adapter grafana)
for dir in k8s/overlays/*/; do
  targets+=("overlays/$(basename "$dir")")
done
for dir in k8s/components/*/; do
  name="$(basename "$dir")"
  grep -qs "components/$name" k8s/overlays/*/kustomization.yaml \
    || die "component k8s/components/$name is used by no overlay, so CI never renders it"
done

rendered=()
for t in "${targets[@]}"; do
  out="$TMP/${t//\//_}.yaml"
  kubectl kustomize "k8s/$t" >"$out" || die "kubectl kustomize k8s/$t"
  rendered+=("$out")
  log "rendered k8s/$t ($(grep -c '^kind:' "$out") objects)"
done

# --- 2. schema validation --------------------------------------------------------------------
for out in "${rendered[@]}"; do
  oldest="$K8S_OLDEST"
  # HPA behavior tolerance (total-latency-hpa) is unknown to schemas before 1.33 and off by
  # default before 1.35.
  if grep -qE '^ +tolerance:' "$out"; then oldest="$K8S_TOLERANCE"; fi
  for version in "$oldest" "$K8S_NEWEST"; do
    report="$("${KV[@]}" --strict --kubernetes-version "$version" "$out" 2>&1)" \
      || { printf '%s\n' "$report" >&2; die "kubernetes-validate $version: $(basename "$out")"; }
    # A WARN means a resource was not checked at all (e.g. no schema for its kind).
    if grep -qE '^(WARN|ERROR)' <<<"$report"; then
      printf '%s\n' "$report" >&2
      die "kubernetes-validate $version: $(basename "$out")"
    fi
  done
  log "kubernetes-validate --strict $oldest and $K8S_NEWEST: $(basename "$out")"
done

# --- 3 + 4 + 5. policy, rules and dashboard cross-checks --------------------------------------
"$PY" - "$TMP" "${rendered[@]}" <<'PY'
"""Cross-checks the schema validators cannot do."""
import json
import re
import sys
from pathlib import Path

import yaml

tmp, *rendered = sys.argv[1:]
errors: list[str] = []

# Metric families the app exports (prometheus_client naming), plus what the adapter serves.
HISTOGRAMS = ["tiergate_request_duration_seconds", "tiergate_gateway_overhead_seconds",
              "tiergate_time_to_first_chunk_seconds"]
SIMPLE = ["tiergate_requests_in_flight", "tiergate_requests_total", "tiergate_tokens_total",
          "tiergate_cost_usd_total", "tiergate_baseline_cost_usd_total",
          "tiergate_cache_lookups_total", "tiergate_upstream_attempts_total",
          "tiergate_retries_total", "tiergate_fallbacks_total", "tiergate_breaker_state"]
KNOWN = set(SIMPLE) | {h + s for h in HISTOGRAMS for s in ("", "_bucket", "_sum", "_count")}

adapter = yaml.safe_load(Path("k8s/prometheus-adapter/config.yaml").read_text())
served = {
    "Pods": {r["name"]["as"] for r in adapter.get("rules", [])},
    "External": {r["name"]["as"] for r in adapter.get("externalRules", [])},
}
KNOWN |= served["Pods"] | served["External"]


def pod_checks(where: str, spec: dict) -> None:
    psc = spec.get("securityContext", {})
    if spec.get("enableServiceLinks") is not False:
        errors.append(f"{where}: enableServiceLinks must be false")
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        at = f"{where} container {c['name']}"
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
            errors.append(f"{at}: runAsNonRoot")
        seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp != "RuntimeDefault":
            errors.append(f"{at}: seccompProfile RuntimeDefault")
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{at}: allowPrivilegeEscalation false")
        if sc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{at}: readOnlyRootFilesystem true")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            errors.append(f"{at}: capabilities drop ALL")
        res = c.get("resources", {})
        if not {"cpu", "memory"} <= set(res.get("requests", {})) or "memory" not in res.get("limits", {}):
            errors.append(f"{at}: cpu/memory requests and a memory limit")
        if "readinessProbe" not in c or "livenessProbe" not in c:
            errors.append(f"{at}: readiness and liveness probes")
        image = c.get("image", "")
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            errors.append(f"{at}: image {image!r} needs a pinned tag")


for path in rendered:
    docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in docs
              if d["kind"] == "HorizontalPodAutoscaler"}
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        where = f"{Path(path).name}: {kind}/{name}"
        if kind == "Secret":
            errors.append(f"{where}: Secrets are created by the user, never shipped")
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            pod_checks(where, doc["spec"]["template"]["spec"])
            if name in scaled and "replicas" in doc["spec"]:
                errors.append(f"{where}: an HPA owns the replica count; drop spec.replicas "
                              "(kubectl apply would reset a scaled-out workload to it)")
        elif kind == "ConfigMap":
            for key, value in doc.get("data", {}).items():
                try:
                    if key.endswith((".yaml", ".yml")):
                        yaml.safe_load(value)
                    elif key.endswith(".json"):
                        json.loads(value)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{where}: {key} does not parse: {exc}")
        elif kind == "HorizontalPodAutoscaler":
            for m in doc["spec"].get("metrics", []):
                if m["type"] in served:
                    metric = m[m["type"].lower()]["metric"]["name"]
                    if metric not in served[m["type"]]:
                        errors.append(f"{where}: {m['type']} metric {metric} is not served by "
                                      "k8s/prometheus-adapter/config.yaml")

# The p99 query text lives in recording-rules.yaml; each adapter metricsQuery, with
# <<.LabelMatchers>> replaced by the matchers of its own seriesQuery, must equal one rule's expr.
rules = yaml.safe_load(Path("k8s/prometheus-adapter/recording-rules.yaml").read_text())
exprs = {" ".join(r["expr"].split()): r["record"]
         for g in rules["groups"] for r in g["rules"] if "record" in r}
for r in adapter.get("rules", []) + adapter.get("externalRules", []):
    matchers = re.search(r"\{(.*)\}", r["seriesQuery"]).group(1)
    concrete = " ".join(r["metricsQuery"].replace("<<.LabelMatchers>>", matchers).split())
    if concrete not in exprs:
        errors.append(f"adapter metric {r['name']['as']}: metricsQuery matches no expr in "
                      f"recording-rules.yaml; expected a rule with\n    {concrete}")
    else:
        print(f"==> adapter {r['name']['as']} == recording rule {exprs[concrete]}")

# Dashboard: every expression must parse (checked by promtool below) and name known metrics.
dashboard = json.loads(Path("k8s/grafana/tiergate-dashboard.json").read_text())
dash_exprs = []
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        dash_exprs.append(target["expr"].replace("$__rate_interval", "5m")
                          .replace("$namespace", ".*"))
Path(tmp, "dashboard-rules.yaml").write_text(yaml.safe_dump({"groups": [{
    "name": "dashboard", "rules": [{"record": f"dashboard:expr_{i}", "expr": e}
                                   for i, e in enumerate(dash_exprs)]}]}))

for source in ("k8s/prometheus-adapter/config.yaml", "k8s/prometheus-adapter/recording-rules.yaml",
               "k8s/grafana/tiergate-dashboard.json"):
    for metric in sorted(set(re.findall(r"\btiergate_[a-z0-9_]+", Path(source).read_text()))):
        if metric not in KNOWN:
            errors.append(f"{source}: unknown metric {metric}")

if errors:
    print("\n".join(f"FAIL: {e}" for e in errors), file=sys.stderr)
    sys.exit(1)
print(f"==> policy and cross-checks passed ({len(dash_exprs)} dashboard queries)")
PY

promtool check rules k8s/prometheus-adapter/recording-rules.yaml
(cd k8s/prometheus-adapter && promtool test rules recording-rules.test.yaml)
promtool check rules "$TMP/dashboard-rules.yaml" >/dev/null \
  || { promtool check rules "$TMP/dashboard-rules.yaml" >&2 || true; die "dashboard PromQL"; }
"$PY" -m json.tool k8s/grafana/tiergate-dashboard.json >/dev/null || die "dashboard JSON"
log "dashboard: valid JSON, PromQL parses"

log "k8s validation passed"
