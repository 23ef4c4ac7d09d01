"""The conversation search (``core.find``): every match, in both directions, and none that
spans a gap (the bytes on its two sides were never next to each other)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monoview.core.find import Searcher


def _whole_matches(data: bytes, needle: bytes, breaks: tuple[int, ...]) -> list[int]:
    """Every match not spanning a break, by brute force."""
    return [
        i
        for i in range(len(data) - len(needle) + 1)
        if data[i : i + len(needle)] == needle and not any(i < b < i + len(needle) for b in breaks)
    ]


def test_a_match_across_a_gap_is_no_match() -> None:
    searcher = Searcher(b"abcXYdefXY", breaks=(4,))  # bytes are missing between X and Y once
    assert searcher.all(b"XY", True) == [8]
    assert searcher.find(b"XY", 0, True, True) == (8, False)
    assert searcher.find(b"XY", 7, False, True) == (8, True)  # wraps to the one whole match
    assert Searcher(b"abXY", breaks=(2,)).all(b"XY", True) == [2]  # a gap before it is its edge
    assert Searcher(b"ab", breaks=(1,)).find(b"ab", 0, True, True) is None


@given(
    data=st.binary(min_size=0, max_size=40).map(lambda b: bytes(x % 3 + 97 for x in b)),
    needle=st.binary(min_size=1, max_size=3).map(lambda b: bytes(x % 3 + 97 for x in b)),
    breaks=st.lists(st.integers(0, 40), max_size=4).map(lambda xs: tuple(sorted(set(xs)))),
    start=st.integers(0, 40),
)
def test_find_and_all_agree_with_brute_force(
    data: bytes, needle: bytes, breaks: tuple[int, ...], start: int
) -> None:
    expected = _whole_matches(data, needle, breaks)
    searcher = Searcher(data, breaks)
    assert searcher.all(needle, True) == expected
    start = min(start, len(data))
    after = [i for i in expected if i >= start]
    found = searcher.find(needle, start, True, True)
    if after:
        assert found == (after[0], False)
    elif expected:
        assert found is not None and found[1] and found[0] == expected[0]
    else:
        assert found is None
    before = [i for i in expected if i < start]
    back = searcher.find(needle, start, False, True)
    if before:
        assert back == (before[-1], False)
    elif expected:
        assert back == (expected[-1], True)
    else:
        assert back is None


def test_find_previous_reaches_a_match_that_runs_past_the_current_one() -> None:
    """Backwards from the match at 1 of "aa" in "aaa", the one at 0 (it overlaps the
    current match; before, the search wrapped to 1 itself and never reached 0)."""
    searcher = Searcher(b"aaa")
    assert searcher.find(b"aa", 1, False, True) == (0, False)
    assert searcher.find(b"aa", 0, False, True) == (1, True)
