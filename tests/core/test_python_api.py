"""The notebook API: ``monoview.open`` and ``sessions_frame``, checked against the oracle."""

from __future__ import annotations

import json

import pytest

import monoview
from tests.conftest import DATA, hide_import
from tests.pcapgen import Conversation, write_pcap

CHATTER = DATA / "chatter.pcap"
ORACLE = json.loads((DATA / "chatter.oracle.json").read_text())


def test_open_gives_the_document_and_its_frame() -> None:
    pd = pytest.importorskip("pandas")
    with monoview.open(CHATTER) as capture:
        frame = capture.sessions_frame()
        talk = capture.conversation(1)
        assert [m.data() for m in talk.monologues][:1]
    (stream,) = ORACLE["streams"]
    assert list(frame.index) == [1] and frame.index.name == "id"
    row = frame.loc[1]
    assert (row["client"], row["client_port"]) == (stream["client"]["ip"], stream["client"]["port"])
    assert (row["server"], row["server_port"]) == (stream["server"]["ip"], stream["server"]["port"])
    assert row["packets"] == stream["packets"]
    assert (row["bytes_c2s"], row["bytes_s2c"]) == (stream["c2s"]["len"], stream["s2c"]["len"])
    assert row["stream"] == 0 and isinstance(row["start"], pd.Timestamp) and str(row["start"].tz) == "UTC"
    assert row["state"] in ("open", "half-closed", "closed", "reset")


def test_the_frame_names_applications(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pandas")
    conv = Conversation()
    conv.handshake().send(True, b"GET / HTTP/1.1\r\nHost: api.example\r\n\r\n").send(
        False, b"HTTP/1.1 200 OK\r\n\r\n"
    )
    with monoview.open(write_pcap(tmp_path / "h.pcap", conv.close().frames)) as capture:
        assert capture.sessions_frame()["application"].tolist() == ["HTTP api.example"]
        assert "application" not in capture.sessions_frame(applications=False)


def test_without_pandas_the_message_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from monoview.core.errors import MonoviewError

    hide_import(monkeypatch, "pandas")
    with monoview.open(CHATTER) as capture, pytest.raises(MonoviewError, match=r"monoview\[pandas\]"):
        capture.sessions_frame()
