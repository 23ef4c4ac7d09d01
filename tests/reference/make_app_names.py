"""Make ``app_names.json``: what tshark names in each TCP stream of the shared captures.

For every capture under ``shared/captures`` and every TCP stream, tshark's
first TLS ClientHello server name and ALPN protocol, first HTTP request Host
and the SSH protocol banners, keyed by the stream's first frame (monoview's
sessions start at the same frame, whatever their numbering).  The application
column is checked against it (``tests/core/test_app_names.py``); run again
when captures are added:

    python tests/reference/make_app_names.py ../shared/captures > tests/reference/app_names.json
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

FIELDS = (
    "frame.number", "tcp.stream", "tls.handshake.type", "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str", "http.request", "http.host", "ssh.protocol",
)  # fmt: skip


def names(capture: Path) -> dict[str, dict[str, Any]]:
    """First frame of each stream -> what tshark found in it first (streams with something)."""
    argv = ["tshark", "-r", str(capture), "-Y", "tcp", "-T", "fields", "-E", "occurrence=f"]
    for field in FIELDS:
        argv += ["-e", field]
    lines = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.splitlines()
    first: dict[str, str] = {}
    found: dict[str, dict[str, Any]] = {}
    for line in lines:
        frame, stream, hs_type, sni, alpn, request, host, ssh = (line.split("\t") + [""] * 8)[:8]
        first.setdefault(stream, frame)
        seen = found.setdefault(stream, {})
        if hs_type == "1" and "tls" not in seen:
            seen["tls"] = "yes"
            seen["sni"], seen["alpn"] = sni, alpn.split(",")[0]
        if request and host and "host" not in seen:
            seen["host"] = host
        if ssh and ssh not in seen.setdefault("ssh", []):
            seen["ssh"].append(ssh)  # each side's banner
        if not seen.get("ssh"):
            seen.pop("ssh", None)
    return {first[s]: v for s, v in found.items() if v}


def main() -> int:
    root = Path(sys.argv[1])
    out = {}
    for capture in sorted(root.glob("*/*")):
        if capture.suffix in (".pcap", ".pcapng") and (found := names(capture)):
            out[f"{capture.parent.name}/{capture.name}"] = found
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
