"""Make ``http_objects.json``: the HTTP objects tshark exports from the shared captures.

Run once (``python tests/reference/make_http_objects.py``) with tshark on the PATH and
``../shared/captures`` beside the checkout; the JSON it writes is the reference that
``tests/core/test_http_objects_tshark.py`` checks monoview's export against, so the test
needs no tshark.  For each capture under ``lab`` and ``wild`` it runs
``tshark -r CAP --export-objects http,DIR`` (which de-chunks and decodes Content-Encoding)
and lists every file written: its name, size and sha256.  Captures with no object are left
out.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURES = Path(os.environ.get("MONOVIEW_SHARED", HERE.parent.parent.parent / "shared")) / "captures"
SUFFIXES = (".pcap", ".pcapng", ".cap")


def objects(capture: Path) -> list[dict[str, object]]:
    """tshark's exported objects of ``capture``, sorted by name."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            ["tshark", "-r", str(capture), "-q", "--export-objects", f"http,{out}"],
            check=False,
            capture_output=True,
        )
        found = []
        for path in sorted(Path(out).iterdir()):
            data = path.read_bytes()
            found.append({"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        return found


def main() -> int:
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    reference: dict[str, object] = {"tshark": version, "captures": {}}
    captures: dict[str, object] = {}
    for folder in ("lab", "wild"):
        for capture in sorted((CAPTURES / folder).iterdir()):
            if capture.suffix in SUFFIXES:
                found = objects(capture)
                if found:
                    captures[f"{folder}/{capture.name}"] = found
                    print(f"{folder}/{capture.name}: {len(found)}", file=sys.stderr)
    reference["captures"] = captures
    (HERE / "http_objects.json").write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
