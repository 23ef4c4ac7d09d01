"""Start the GUI: ``monoview [FILE] [--screenshot OUT.png] [--session ID]``.

``main`` is what ``monoview.cli`` calls for anything that is not a headless
subcommand.  With ``--screenshot`` the window loads the capture, selects a
session (the first by default), saves a picture of itself and exits; it works
offscreen too (``QT_QPA_PLATFORM=offscreen``), which is how the README images
and tests are made.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication

from monoview import __version__
from monoview.cli.window import headless, parse_args
from monoview.core.showas import ShowAs
from monoview.core.terminate import ENDING
from monoview.gui.dialogs.errors import install_excepthook
from monoview.gui.icons import app_icon
from monoview.gui.mainwindow import MainWindow


def make_application(argv: Sequence[str] = ()) -> QApplication:
    """The QApplication, named so QSettings lands in the right place."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(["monoview", *argv])
    QCoreApplication.setOrganizationName("monoview")
    QCoreApplication.setApplicationName("monoview")
    QCoreApplication.setApplicationVersion(__version__)
    app.setApplicationDisplayName("monoview")
    app.setDesktopFileName("monoview")
    app.setWindowIcon(app_icon())
    return app


def wait_for_load(window: MainWindow, timeout_ms: int = 600_000) -> None:
    """Run the event loop until the window's capture is read (or the timeout)."""
    if not window.loading:
        return
    loop = QEventLoop()
    window.load_finished.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def wait_for_conversation(window: MainWindow, timeout_ms: int = 600_000) -> None:
    """Run the event loop until the selected session's conversation is shown (a big one is
    reassembled in a worker thread) and the sessions' applications are named."""
    deadline = time.monotonic() + timeout_ms / 1000
    while (window.reassembling or window.namer.busy) and time.monotonic() < deadline:
        settle(10)


def settle(ms: int = 300) -> None:
    """Let layouts and paints happen (batched list layout, plots)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


# How long the picture must stay the same, and how long it is waited for at most.
STILL_MS, SETTLE_MS = 30, 300


def settled_picture(window: MainWindow) -> QPixmap:
    """The window's picture once layouts and paints are done: the first that is the same as
    one taken ``STILL_MS`` before (at most ``SETTLE_MS`` in all; a grab costs 10-20 ms).

    A fixed ``settle(SETTLE_MS)`` waited a third of a second on every screenshot, though
    what it waits for (the conversation's batched layout, queued repaints, the plots) is
    work the event loop does within a few turns; a picture that no longer changes says so.
    """
    settle(2 * STILL_MS)  # the pictures of the first few turns always differ: not grabbed
    previous = window.grab()
    waited = 2 * STILL_MS
    while waited < SETTLE_MS:
        settle(STILL_MS)
        waited += STILL_MS
        picture = window.grab()
        if picture.toImage() == previous.toImage():
            return picture
        previous = picture
    return previous


def take_screenshot(window: MainWindow, args: argparse.Namespace) -> int:
    """Load, select, save the picture; the exit status of ``--screenshot``."""
    width, _, height = args.size.partition("x")
    window.resize(int(width), int(height))
    window.show()
    if args.plots:
        window.plots_dock.show()
    if args.file is not None:
        window.opener.previews = False  # the picture is of the whole list
        window.fetcher.start_early = False  # only the session pictured is reassembled
        if not window.open_path(args.file):
            sys.stderr.write(f"monoview: {window.message_bar.text}\n")
            return 2
        wait_for_load(window)
        if args.session is not None and not window.select_session(args.session):
            sys.stderr.write(f"monoview: {args.file.name} has no session {args.session}\n")
            return 2
        if args.session is None and window.tree_model.rowCount():
            window.select_session(window.tree_model.shown_ids()[0])
        wait_for_conversation(window)
        if args.monologue is not None and window.current_session is not None:
            monologues = window.conversation.conversation.monologues()
            if 0 <= args.monologue < len(monologues):
                window.select_monologue(monologues[args.monologue])
    window.scope.setCurrentIndex(max(0, window.scope.findData(args.scope)))
    if args.view == "text" or args.show_as is not None:
        window.show_text()
    if args.show_as is not None:
        window.text.set_format(ShowAs.named(args.show_as).value)
    if args.view == "http":
        window.detail_tabs.setCurrentWidget(window.http.pane)
        deadline = time.monotonic() + 60
        while window.http.busy and time.monotonic() < deadline:
            settle(10)
    picture = settled_picture(window)
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    if not picture.save(str(args.screenshot)):
        sys.stderr.write(f"monoview: cannot write {args.screenshot}\n")
        return 1
    return 0


OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def _quiet_offscreen(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt messages to stderr, except the offscreen platform's harmless size-hint notice."""
    if OFFSCREEN_NOISE not in message:
        sys.stderr.write(f"{message}\n")


# How often the event loop lets Python run its signal handlers (Qt's loop, in C++, would
# otherwise hold them back until the next user event).
SIGNAL_POLL_MS = 200


def end_on_signals(app: QApplication, window: MainWindow) -> list[int]:
    """SIGINT, SIGTERM and SIGHUP close the window as File › Quit does (its work stopped, the
    document and its temporary copy removed) and end the event loop; the signal is then in
    the returned list, and the program exits with 128 + its number.  Killed by the
    default handler instead, the program would leave a compressed capture's decompressed
    copy in ``TMPDIR``."""
    ended: list[int] = []

    def end(signum: int, _frame: object) -> None:
        if not ended:
            ended.append(signum)
            window.close()
            app.quit()

    for signum in (signal.SIGINT, *ENDING):
        signal.signal(signum, end)
    poll = QTimer(app)
    poll.timeout.connect(lambda: None)
    poll.start(SIGNAL_POLL_MS)
    return ended


def main(argv: list[str]) -> int:
    """Run the GUI; ``argv`` excludes the program name."""
    args = parse_args(argv)
    if headless():
        if args.screenshot is None:
            sys.stderr.write(
                "monoview: no display to open a window on (DISPLAY is not set). Use the headless "
                "subcommands (monoview sessions|follow|export|http|trace) or --screenshot.\n"
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no display
    app = make_application(argv)
    if args.screenshot is not None:
        previous = qInstallMessageHandler(_quiet_offscreen)
        try:
            window = MainWindow(remember=False)
            status = take_screenshot(window, args)
            window.close()
        finally:
            qInstallMessageHandler(previous)
        return status
    install_excepthook()
    window = MainWindow()
    ended = end_on_signals(app, window)
    window.show()
    if args.file is not None:
        window.open_path(args.file)
        if args.session is not None:

            def select_when_there() -> None:
                if not window.select_session(args.session) and window.loading:
                    QTimer.singleShot(100, select_when_there)

            select_when_there()
    status = app.exec()
    return 128 + ended[0] if ended else status
