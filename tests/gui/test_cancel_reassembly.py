"""Closing a document or the window while a worker reassembles a big session does not wait
for it (issue 10): the worker's task is stopped (pebble terminates the worker), its result is
never delivered, a fresh worker serves the next request, and nothing is printed.  And the
workers are started (and ready for the document) before the first big session is asked for.

The session is 300,000 one-byte monologues (``bench/linear_shapes.py``), seconds of work
for a worker; every check is on state and signals (the task's future was cancelled while
it ran, ``ready`` never came), none on how long anything took.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from monoview.core import fanout
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.gui.conversations import INLINE_PACKETS, ConversationFetcher
from tests.gui.conftest import LOAD_TIMEOUT_MS, load

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.linear_shapes import one_byte_monologues  # noqa: E402

MONOLOGUES = 300_000


@pytest.fixture(scope="module")
def big_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return one_byte_monologues(tmp_path_factory.mktemp("cancel") / "monologues.pcap", MONOLOGUES)


@pytest.fixture
def document(big_session: Path) -> Iterator[CaptureDocument]:
    # An executor makes the index live in files, as the window's does: workers can read it.
    with CaptureDocument(big_session, workers=1, executor=InlineExecutor()) as doc:
        assert doc.parts.folder is not None
        assert int(doc.rows["packets"][0]) > INLINE_PACKETS
        yield doc


@pytest.fixture
def fetcher(qtbot) -> Iterator[ConversationFetcher]:  # type: ignore[no-untyped-def]
    """A fetcher with one worker process; ended, and its queued signals delivered, before it
    goes (a QObject deleted with queued calls to it still pending crashes the test run)."""
    made = ConversationFetcher(workers=1)
    yield made
    made.shutdown()
    qtbot.wait(50)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _running(fetcher: ConversationFetcher, session_id: int) -> bool:
    task = fetcher.tasks.get(session_id)
    return task is not None and task.running()


def test_stop_terminates_the_worker_mid_task(qtbot, fetcher, document: CaptureDocument, capfd) -> None:  # type: ignore[no-untyped-def]
    fetcher.set_document(document)
    assert fetcher.fetch(1) is None  # big: a worker reassembles it
    assert fetcher.busy
    qtbot.waitUntil(lambda: _running(fetcher, 1), timeout=LOAD_TIMEOUT_MS)
    task = fetcher.tasks[1]
    with qtbot.assertNotEmitted(fetcher.ready, wait=200), qtbot.assertNotEmitted(fetcher.failed):
        fetcher.stop()
    # cancel() succeeds on a running pebble task only by terminating its worker
    assert task.cancelled()
    assert not fetcher.busy and not fetcher.tasks
    assert document.cached_conversation(1) is None
    # The pool replaced the worker: the same session asked again arrives, whole.
    with qtbot.waitSignal(fetcher.ready, timeout=LOAD_TIMEOUT_MS) as ready:
        assert fetcher.fetch(1) is None
    session_id, session = ready.args
    assert session_id == 1 and len(session.monologues) == MONOLOGUES
    fetcher.shutdown()
    assert "Traceback" not in capfd.readouterr().err


def test_closing_the_document_drops_its_reassembly(qtbot, fetcher, document: CaptureDocument) -> None:  # type: ignore[no-untyped-def]
    fetcher.set_document(document)
    fetcher.fetch(1)
    qtbot.waitUntil(lambda: _running(fetcher, 1), timeout=LOAD_TIMEOUT_MS)
    task = fetcher.tasks[1]
    with qtbot.assertNotEmitted(fetcher.ready, wait=200):
        fetcher.set_document(None)
    assert task.cancelled()


def test_quitting_the_window_stops_its_reassembly(qtbot, window, big_session: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    load(qtbot, window, big_session)
    fetcher = window.fetcher
    fetcher.fetch(1)  # (the window has asked for it already, as session 1 is current)
    qtbot.waitUntil(lambda: _running(fetcher, 1), timeout=LOAD_TIMEOUT_MS)
    task = fetcher.tasks[1]
    with qtbot.assertNotEmitted(fetcher.ready, wait=200):
        window.close()
    assert task.cancelled()
    assert fetcher._pool is None  # the workers were ended with the window
    assert "Traceback" not in capfd.readouterr().err


def test_a_document_with_a_big_session_starts_the_workers_at_once(
    qtbot, fetcher: ConversationFetcher, document: CaptureDocument
) -> None:  # type: ignore[no-untyped-def]
    """Not at the first click on a big session: that click would wait for the fork server and
    the flow locator (``fanout.prepare``, run by each worker now)."""
    assert fetcher._pool is None
    fetcher.set_document(document)
    assert fetcher._pool is None  # not before the window asks (its names come first)
    fetcher.start_workers()
    qtbot.waitUntil(lambda: fetcher._pool is not None, timeout=LOAD_TIMEOUT_MS)
    fetcher.set_document(None)


def test_a_prepared_worker_does_not_locate_again(monkeypatch, document: CaptureDocument) -> None:  # type: ignore[no-untyped-def]
    made: list[object] = []
    real = fanout.FlowLocator.of
    monkeypatch.setattr(fanout.FlowLocator, "of", lambda parts: made.append(parts) or real(parts))
    monkeypatch.setattr(fanout, "_located", {})
    fanout.prepare(str(document.path), document.parts)
    assert len(made) == 1
    session = fanout.reassemble(fanout.ConversationTask.of(document, 1))
    assert len(made) == 1  # the reassembly used the prepared locator
    assert session.packets == int(document.rows["packets"][0])


def test_a_big_session_being_reassembled_says_so(qtbot, window, big_session: Path) -> None:  # type: ignore[no-untyped-def]
    """While a worker reassembles the selected big session, its title and the status bar say
    so (the window stays usable; the conversation comes when it is ready)."""
    load(qtbot, window, big_session)
    fetcher = window.fetcher
    qtbot.waitUntil(lambda: _running(fetcher, 1), timeout=LOAD_TIMEOUT_MS)
    assert window.reassembling and window.current_session is None
    assert window.conversation_title.text() == "Session 1: reassembling…"
    assert window.statusBar().currentMessage() == "Reassembling the session…"
    window.close()
