"""``monoview --screenshot``: works offscreen, selects the session, draws real content."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from monoview.gui import app
from monoview.gui.icons import resource_path, sample_capture
from monoview.gui.views import palette


def colour_count(image: QImage, colour: QColor) -> int:
    step = 4
    return sum(
        1
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
        if image.pixelColor(x, y).rgb() == colour.rgb()
    )


def test_screenshot_of_a_session(qapp, tmp_path: Path) -> None:
    sample = sample_capture()
    assert sample is not None and sample.exists()
    out = tmp_path / "shot.png"
    assert app.main(["--screenshot", str(out), "--session", "2", "--size", "1000x700", str(sample)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)
    # the conversation pane painted both sides' colours, not an empty window
    assert colour_count(image, palette.CLIENT_BG) > 50
    assert colour_count(image, palette.SERVER_BG) > 50


def test_screenshot_of_an_unknown_session_fails(qapp, tmp_path: Path) -> None:
    sample = sample_capture()
    assert sample is not None
    assert app.main(["--screenshot", str(tmp_path / "x.png"), "--session", "99", str(sample)]) == 2


def test_screenshot_of_a_cut_off_capture_fails(qapp, tmp_path: Path) -> None:
    """A pcap magic and six bytes: a sentence and exit 2, not a window waiting for a load that never ends."""
    bad = tmp_path / "ten.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00")
    assert app.main(["--screenshot", str(tmp_path / "x.png"), str(bad)]) == 2
    assert not (tmp_path / "x.png").exists()


def test_resources_are_found() -> None:
    for name in ("monoview.svg", "monoview.png", "monoview.desktop", "sample-http.pcap"):
        assert resource_path(name).exists(), name


def test_screenshot_is_the_settled_picture_without_a_fixed_wait(qapp, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The picture is saved once it stops changing, not after a fixed third of a second;
    a third of a second later the window still looks the same."""
    from monoview.gui.mainwindow import MainWindow

    sample = sample_capture()
    assert sample is not None
    waits: list[int] = []
    real_settle = app.settle

    def counted(ms: int = 300) -> None:
        waits.append(ms)
        real_settle(ms)

    monkeypatch.setattr(app, "settle", counted)
    out = tmp_path / "shot.png"
    args = app.parse_args(["--screenshot", str(out), "--session", "2", "--size", "1000x700", str(sample)])
    window = MainWindow(remember=False)
    try:
        assert app.take_screenshot(window, args) == 0
        assert max(waits) < 300  # no wait of the whole third of a second at once
        real_settle(300)
        later = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    finally:
        window.close()
    saved = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
    assert saved == later
