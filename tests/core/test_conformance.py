"""Every capture in shared/captures against tshark's oracle.

lab/ must match completely (the client side aside where no handshake was
captured, and the end/snaplen gaps tshark cannot report, which are checked
against the oracle's own accounting).  wild/ must match except for the
captures listed in KNOWN_DIFFERENCES, each with the reason and its own test in
test_known_differences.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance import (
    client_ignored,
    extra_gaps_explained,
    load_compare,
    manifest_for,
    oracle_for,
    tshark_view,
)
from tests.conftest import CAPTURES

# capture -> (compare.py difference kinds expected, reason); see test_known_differences.py
KNOWN_DIFFERENCES = {
    "zeek_vlan-collisions.pcap": ("streams", "the same 4-tuple in three VLAN contexts is three sessions"),
    "tcpflow_test1-out-of-order.pcap": ("streams", "the segment stored after a later one is kept"),
    "tcpflow_test5-lines-randomized.pcap": ("streams", "a shuffled capture is one connection, not two"),
    "tcpflow_bug8.pcap": ("streams", "frame 1's microsecond field is out of range; tshark overflows it"),
    "zeek_http-206_example_b.pcap": ("missing_data", "tshark's 'ACKed unseen segment' with nothing missing"),
    "zeek_smtp.pcap": ("missing_data", "tshark's 'ACKed unseen segment' with nothing missing"),
    "suricata_with_evasion_windows.pcap": ("missing_data", "an injected RST/FIN is not missing data"),
    "zeek_tcp-fast-open.pcap": ("missing_data", "tshark counts the SYN in the span of TFO data"),
}


def _captures(folder: str) -> list[Path]:
    root = CAPTURES / folder
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.suffix in (".pcap", ".pcapng"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


LAB = _captures("lab")
WILD = _captures("wild")


@pytest.mark.skipif(not LAB, reason="shared/captures/lab not available")
@pytest.mark.parametrize("capture", LAB, ids=_ids(LAB))
def test_lab_capture_matches_oracle(capture: Path) -> None:
    oracle = oracle_for(capture)
    manifest = manifest_for(capture)
    diffs, _matched, mismatched = load_compare().summary(
        oracle, tshark_view(manifest), ignore=client_ignored(oracle)
    )
    assert diffs == []
    assert mismatched == 0
    assert extra_gaps_explained(oracle, manifest) == []
    assert manifest["capture"]["read_error"] is None


@pytest.mark.skipif(not WILD, reason="shared/captures/wild not available")
@pytest.mark.parametrize("capture", WILD, ids=_ids(WILD))
def test_wild_capture_matches_oracle(capture: Path) -> None:
    oracle = oracle_for(capture)
    manifest = manifest_for(capture)
    compare = load_compare()
    ignore = client_ignored(oracle)
    known = KNOWN_DIFFERENCES.get(capture.name)
    if known and known[0] == "missing_data":
        ignore.append("missing_data")
    diffs = compare.compare(oracle, tshark_view(manifest), ignore=ignore)
    if known and known[0] == "streams":
        # These differ in how many streams there are; their own tests say why.
        assert diffs, f"{capture.name} is listed as differing, but now matches: update KNOWN_DIFFERENCES"
        return
    assert diffs == []
    assert extra_gaps_explained(oracle, manifest) == []
    assert bool(manifest["capture"]["read_error"]) == bool(oracle["capture"]["read_error"])
    if known:
        strict = compare.compare(
            oracle, tshark_view(manifest), ignore=[i for i in ignore if i != "missing_data"]
        )
        assert strict, f"{capture.name} is listed as differing, but now matches: update KNOWN_DIFFERENCES"
