# hub's nop harness: sends no load. Written into the run's output folder by hub and run there
# with any Python 3 (standard library only). It polls the target server's GET /health and
# GET /v1/models until both answer 200 (or --timeout passes), asks GET /version, and writes
# what it saw to --out (probe.json), which converters/nop.ts reads.
#
# usage: python3 hub_nop_probe.py --target http://127.0.0.1:8000 [--timeout 600] [--interval 0.25] [--out probe.json]
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("--target", required=True, help="server root URL, without /v1")
p.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
p.add_argument("--interval", type=float, default=0.25, help="seconds between polls")
p.add_argument("--out", default="probe.json")
args = p.parse_args()

headers = {}
if os.environ.get("OPENAI_API_KEY"):
    headers["Authorization"] = "Bearer " + os.environ["OPENAI_API_KEY"]


def get(path):
    """(HTTP status or None, parsed JSON body or None, error text or None)"""
    req = urllib.request.Request(args.target.rstrip("/") + path, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
            try:
                return r.status, json.loads(body) if body else None, None
            except ValueError:
                return r.status, None, None
    except urllib.error.HTTPError as e:
        return e.code, None, f"HTTP {e.code}"
    except Exception as e:  # connection refused, timeout, reset: the server is not up yet
        return None, None, f"{type(e).__name__}: {getattr(e, 'reason', e)}"


endpoints = {"health": "/health", "models": "/v1/models"}
seen = {name: {"path": path, "answered_s": None, "answered_at": None, "attempts": 0, "last_error": None} for name, path in endpoints.items()}
models = []
started_at = time.time()
start = time.monotonic()
first_round = True
already_up = False
while True:
    for name, e in seen.items():
        if e["answered_s"] is not None:
            continue
        e["attempts"] += 1
        status, body, err = get(e["path"])
        if status == 200:
            e["answered_s"] = time.monotonic() - start
            e["answered_at"] = time.time()
            if name == "models" and isinstance(body, dict):
                models = [m.get("id") for m in body.get("data", []) if isinstance(m, dict)]
        else:
            e["last_error"] = err or f"HTTP {status}"
    done = all(e["answered_s"] is not None for e in seen.values())
    if first_round:
        already_up = done
        first_round = False
    if done or time.monotonic() - start > args.timeout:
        break
    time.sleep(args.interval)

version = None
if all(e["answered_s"] is not None for e in seen.values()):
    status, body, _ = get("/version")
    if status == 200 and isinstance(body, dict):
        version = body.get("version")

result = {
    "probe": "hub nop",
    "target": args.target,
    "started_at": started_at,
    "timeout_s": args.timeout,
    "interval_s": args.interval,
    "already_up": already_up,
    "endpoints": seen,
    "models": models,
    "version": version,
}
with open(args.out, "w") as f:
    json.dump(result, f, indent=2)

for name, e in seen.items():
    if e["answered_s"] is None:
        print(f"nop: GET {e['path']} did not answer 200 within {args.timeout:g} s (last: {e['last_error']})", file=sys.stderr)
    else:
        print(f"nop: GET {e['path']} answered after {e['answered_s']:.3f} s ({e['attempts']} attempts)")
if already_up:
    print("nop: the server was already up at the first probe")
sys.exit(0 if all(e["answered_s"] is not None for e in seen.values()) else 1)
