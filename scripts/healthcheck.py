#!/usr/bin/env python3
"""The web container's health check: GET URL (default http://127.0.0.1:8000/healthz/) and exit 0 only on
200 "ok". It asks for the first of ALLOWED_HOSTS as Host, since Django refuses any other host name.

    python scripts/healthcheck.py [URL]
"""

import os
import sys
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz/"
hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h for h in hosts if h != "*"), "localhost")
request = urllib.request.Request(url, headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read().decode("utf-8", "replace").strip()
        ok = response.status == 200 and body == "ok"
except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; say which
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
print(body)
sys.exit(0 if ok else 1)
