"""The cluster path: a Dask LocalCluster runs the same index and export tasks as the local
worker processes, and gives the same session list and manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monoview.core.cluster import LOCAL, dask_cluster
from monoview.core.document import CaptureDocument
from monoview.core.errors import MonoviewError
from monoview.core.export import Exporter, ExportOptions
from tests.conftest import DATA, hide_import
from tests.pcapgen import Conversation, write_pcap


def _capture(tmp_path: Path) -> Path:
    """Many small sessions (so export really shards them across workers) and one bigger one."""
    frames = []
    for k in range(80):
        conv = Conversation(
            client=(f"10.0.{k // 200}.{k % 200 + 1}", 40000 + k),
            start_ns=1_700_000_000_000_000_000 + k * 10**7,
        )
        frames += (
            conv.handshake()
            .send(True, b"GET /%d HTTP/1.1\r\n\r\n" % k)
            .send(False, b"x" * (k * 37))
            .close()
            .frames
        )
    frames.sort(key=lambda f: f.ts_ns)
    return write_pcap(tmp_path / "many.pcap", frames)


def _export(path: Path, out: Path, **where: object) -> dict[str, object]:
    document = CaptureDocument(path, **where)  # type: ignore[arg-type]
    try:
        Exporter(document, out, ExportOptions(return_streams=False), **where).export()  # type: ignore[arg-type]
    finally:
        document.close()
    manifest: dict[str, object] = json.loads((out / "manifest.json").read_text())
    return manifest


def test_a_local_cluster_exports_what_the_worker_processes_export(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = _capture(tmp_path)
    plain = _export(path, tmp_path / "plain", workers=2)
    with dask_cluster(LOCAL, workers=2) as cluster:
        assert cluster.workers == 2
        on_dask = _export(path, tmp_path / "dask", executor=cluster.executor, workers=cluster.workers)
        with CaptureDocument(DATA / "chatter.pcap", executor=cluster.executor, workers=2) as document:
            chatter = document.rows.tolist()
    assert on_dask["streams"] == plain["streams"] and len(plain["streams"]) == 80  # type: ignore[arg-type]
    for name in ("s00007", "s00042"):
        made = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob(f"{name}*/**/*"))
        assert made and made == sorted(
            p.relative_to(tmp_path / "dask") for p in (tmp_path / "dask").rglob(f"{name}*/**/*")
        )
    with CaptureDocument(DATA / "chatter.pcap", workers=1) as document:
        assert chatter == document.rows.tolist()


def test_an_unreachable_scheduler_is_a_sentence() -> None:
    pytest.importorskip("distributed")
    with (
        pytest.raises(MonoviewError, match="cannot be reached"),
        dask_cluster("tcp://127.0.0.1:9", timeout_s=2),
    ):
        pass


def test_without_dask_the_message_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_import(monkeypatch, "distributed")
    with pytest.raises(MonoviewError, match=r"monoview\[cluster\]"), dask_cluster(LOCAL):
        pass


def test_export_on_dask_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    pytest.importorskip("distributed")
    path = _capture(tmp_path)

    def export(out: Path, *extra: str) -> list[object]:
        command = [sys.executable, "-m", "monoview", "export", str(path), "--out", str(out), *extra]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        streams: list[object] = json.loads((out / "manifest.json").read_text())["streams"]
        return streams

    assert export(tmp_path / "dask", "--dask", "local", "--dask-workers", "2") == export(tmp_path / "plain")
