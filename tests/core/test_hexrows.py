"""The hex view's rows with gap markers in line: checked against a layout written out row by row."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monoview.core.hexrows import HexRow, HexRows


def _written_out(size: int, gaps: list[tuple[int, int]], width: int) -> list[HexRow]:
    """Every row, the slow obvious way: bytes in rows of ``width`` from each run's start,
    one marker row per gap before the byte that follows it."""
    rows: list[HexRow] = []
    at = 0
    for position, missing in [*sorted(gaps), (size, 0)]:
        while at < position:
            rows.append(HexRow(at, min(width, position - at)))
            at += rows[-1].count
        if missing:
            rows.append(HexRow(position, 0, missing))
    return rows


@given(
    st.integers(0, 300).flatmap(
        lambda size: st.tuples(
            st.just(size), st.lists(st.tuples(st.integers(0, size), st.integers(1, 10_000)), max_size=8)
        )
    ),
    st.sampled_from([1, 3, 16]),
)
def test_rows_and_byte_positions_agree_with_the_written_out_layout(case, width: int) -> None:  # type: ignore[no-untyped-def]
    size, gaps = case
    expected = _written_out(size, gaps, width)
    layout = HexRows(size, gaps, width)
    assert layout.rows == len(expected)
    assert [layout.row(i) for i in range(layout.rows)] == expected
    for position in range(size):
        row = expected[layout.row_of(position)]
        assert not row.is_gap and row.start <= position < row.end
    if size:
        assert layout.row_of(size) == max(i for i, r in enumerate(expected) if not r.is_gap)


def test_a_gap_is_its_own_row_and_the_offsets_continue_after_it() -> None:
    layout = HexRows(40, [(20, 5), (40, 3)])
    assert [layout.row(i) for i in range(layout.rows)] == [
        HexRow(0, 16), HexRow(16, 4), HexRow(20, 0, 5), HexRow(20, 16), HexRow(36, 4), HexRow(40, 0, 3),
    ]  # fmt: skip
    assert layout.row(2).text == "[5 bytes missing]"
    assert layout.move(18, 1) == 22 and layout.move(22, -1) == 18  # over the marker, same column
    assert layout.move(2, -1) == 0 and layout.move(38, 1) == 40  # the ends
    assert layout.move(30, -1) == 19  # a shorter row: its last byte
