"""monoview: browse and export the monologues of every TCP session in a capture.

For notebooks and scripts::

    import monoview

    with monoview.open("capture.pcapng") as capture:
        frame = capture.sessions_frame()  # pandas, one row per session
        talk = capture.conversation(1)  # the exact reassembly of session 1
        for monologue in talk.monologues:
            print(monologue.direction, monologue.data()[:60])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike

    from monoview.core.document import CaptureDocument

__version__ = "0.1.0"


def open(  # noqa: A001
    path: str | PathLike[str] | Sequence[str | PathLike[str]], *, split_interfaces: bool = False
) -> CaptureDocument:
    """The capture at ``path``, indexed (in worker processes) and listed: a
    :class:`~monoview.core.document.CaptureDocument`; close it, or use it in a ``with``.
    Several files (or a folder) are one capture, as on the command line.

    Imported on first call, so that ``import monoview`` stays free (the CLI starts
    from it) and shadowing the built-in ``open`` here changes nothing elsewhere.
    """
    from monoview.core.document import CaptureDocument, DocumentOptions

    return CaptureDocument(path, DocumentOptions(split_interfaces=split_interfaces))


__all__ = ["__version__", "open"]
