"""monoview's manifest next to tshark's oracle, through shared/tools/compare.py.

Where tshark is known to be limited (shared/captures/README.md), monoview
reports more than the oracle: gaps at the very end of a direction and bytes
cut by snaplen.  ``tshark_view`` removes exactly those extra records so the
remaining comparison must be exact, and ``extra_gaps_explained`` checks the
removed records against what the oracle itself says is missing.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from monoview.core.analyse import analyse
from monoview.core.export import Exporter, ExportOptions
from tests.conftest import TOOLS

DIRECTIONS = ("c2s", "s2c")


def load_compare() -> ModuleType:
    """shared/tools/compare.py as a module (the test is skipped without shared/)."""
    if not (TOOLS / "compare.py").exists():
        pytest.skip("shared/tools/compare.py not available")
    spec = importlib.util.spec_from_file_location("oracle_compare", TOOLS / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("oracle_compare", module)
    spec.loader.exec_module(module)
    return module


def client_ignored(oracle: dict[str, Any]) -> list[str]:
    """Without a handshake the oracle names the first sender client; monoview uses ports."""
    return ["client"] if any(s["client_basis"] == "first_packet" for s in oracle["streams"]) else []


def oracle_for(capture: Path) -> dict[str, Any]:
    name = capture.name
    for suffix in (".pcapng", ".pcap"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return json.loads((capture.parent / f"{name}.oracle.json").read_text())


def manifest_for(capture: Path) -> dict[str, Any]:
    """Raw bytes, gaps omitted: the manifest whose len/sha256 equal the oracle's (nothing written)."""
    analysis = analyse(capture)
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    return Exporter(analysis, "unused", options).describe()


def tshark_view(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without the gaps tshark cannot report (end of stream, snaplen)."""
    view = copy.deepcopy(manifest)
    for stream in view["streams"]:
        for d in DIRECTIONS:
            stream[d]["gaps"] = [g for g in stream[d]["gaps"] if g["cause"] == "not captured"]
    return view


def extra_gaps_explained(oracle: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Check monoview's end and snaplen gaps against the oracle's own accounting.

    For each matched stream and direction: the snaplen gaps add up to the bytes
    the oracle says the wire carried beyond what was captured
    (``seq_span - len - marked gaps`` when ``truncated_packets`` > 0), and the
    end gaps to ``missing_unmarked`` (bytes the sequence numbers say are absent),
    unless the peer acknowledged data beyond the last segment captured (then
    the oracle cannot know how much; the gap must be ACKed).
    """
    compare = load_compare()
    pairs, _miss, _extra = compare.match_streams(oracle, manifest)
    problems = []
    for o, c in pairs:
        direction_map, _swapped = compare._dir_map(o, c)
        for od in DIRECTIONS:
            ov, cv = o[od], c[direction_map[od]]
            snap = sum(g["missing"] for g in cv["gaps"] if g["cause"] == "snaplen")
            end = [g for g in cv["gaps"] if g["cause"] == "end"]
            marked = sum(g["missing"] for g in ov["gaps"])
            if ov["truncated_packets"]:
                wire_missing = ov["seq_span"] - ov["len"] - marked
                if snap + sum(g["missing"] for g in end) != wire_missing:
                    problems.append(f"{od}: snaplen+end gaps {snap} vs oracle {wire_missing}")
            elif snap:
                problems.append(f"{od}: snaplen gaps but the oracle has no truncated packets")
            end_total = sum(g["missing"] for g in end)
            if end and not ov["truncated_packets"]:
                # Bytes the peer ACKed beyond the last segment seen are outside the
                # oracle's span: it cannot know them, but the gap must then be ACKed.
                beyond_span = end_total > ov["missing_unmarked"] and all(g["acked"] for g in end)
                if ov["data_packets"] and end_total != ov["missing_unmarked"] and not beyond_span:
                    problems.append(
                        f"{od}: end gaps {end_total} vs missing_unmarked {ov['missing_unmarked']}"
                    )
                if not ov["data_packets"] and not all(g["acked"] for g in end):
                    problems.append(f"{od}: end gap with no data seen is not ACKed")
    return problems


def check_folder(folder: Path) -> tuple[int, int]:
    """Print how every capture in ``folder`` compares with its oracle; return (matched, differing)."""
    compare = load_compare()
    matched = differing = 0
    for oracle_path in sorted(folder.glob("*.oracle.json")):
        stem = oracle_path.name.removesuffix(".oracle.json")
        captures = [p for p in (folder / f"{stem}.pcap", folder / f"{stem}.pcapng") if p.exists()]
        if not captures:
            continue
        oracle = json.loads(oracle_path.read_text())
        manifest = manifest_for(captures[0])
        diffs, ok, bad = compare.summary(oracle, tshark_view(manifest), ignore=client_ignored(oracle))
        problems = diffs + extra_gaps_explained(oracle, manifest)
        matched, differing = matched + ok, differing + bad
        print(f"{'OK ' if not problems else 'BAD'} {captures[0].name}: {ok} streams matched, {bad} differ")
        for line in problems[:8]:
            print(f"    {line}")
    return matched, differing


if __name__ == "__main__":
    totals = [check_folder(Path(arg)) for arg in sys.argv[1:]]
    good, bad = sum(t[0] for t in totals), sum(t[1] for t in totals)
    print(f"{good} streams matched, {bad} differ")
    sys.exit(1 if bad else 0)
