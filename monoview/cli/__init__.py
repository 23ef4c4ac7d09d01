"""The ``monoview`` command: headless subcommands, or the GUI.

``monoview sessions|follow|export|http|trace CAPTURE ...`` run without Qt.  Anything
else (``monoview``, ``monoview FILE``, ``monoview --screenshot OUT FILE``)
starts the GUI, imported only then so the headless commands never load Qt.

Exit status: 0 success; 1 export refused or failed, or the output could not
be written; 2 bad usage or not a capture; 3 the capture is damaged
(everything before the damage was still listed or exported); 130 interrupted
(Ctrl-C), 143 and 129 ended by SIGTERM and SIGHUP (temporary files removed).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from monoview.core.errors import ExportError, MonoviewError, UnknownSessionError
from monoview.core.terminate import Terminated, ignore_endings, raise_on_termination, remove_tracked

# monoview does no linear algebra, but numpy's OpenBLAS starts a pool of threads at
# import, in this process and so in every worker forked from it, and they spin for a
# while: a tenth of a second of CPU a run.  One thread means no pool (set before
# numpy is imported; a value the user set stays).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

SUBCOMMANDS = ("sessions", "follow", "export", "http", "trace")
EXIT_EXPORT, EXIT_USAGE, EXIT_DAMAGED = 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``monoview`` command."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] in (["--install-desktop"], ["--uninstall-desktop"]):
        from monoview import desktop

        return desktop.main(args_list)
    if not args_list or args_list[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        from monoview.cli.window import parse_args, start_before_qt

        # The window's workers and its document's build, started now, go on while this
        # process imports Qt (cli.window's docstring).
        start_before_qt(parse_args(args_list))
        from monoview.gui.app import main as gui_main  # Qt only when the GUI is wanted

        return int(gui_main(args_list))
    from monoview.cli import parser

    args = parser.build().parse_args(args_list)
    command = importlib.import_module(f"monoview.cli.{args.command}")
    if sys.stdout is None:
        print("monoview: the standard output is closed", file=sys.stderr)
        return EXIT_EXPORT
    raise_on_termination()  # SIGTERM, SIGHUP: unwind (temporary files removed) as Ctrl-C does
    try:
        return int(command.run(args))
    except (ExportError, UnknownSessionError) as exc:
        print(f"monoview: {exc}", file=sys.stderr)
        return EXIT_EXPORT if isinstance(exc, ExportError) else EXIT_USAGE
    except MonoviewError as exc:
        print(f"monoview: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Terminated as exc:
        return exc.status
    except OSError as exc:
        print(f"monoview: {_cannot_write(exc)}", file=sys.stderr)
        return EXIT_EXPORT


def _cannot_write(exc: OSError) -> str:
    """One sentence for an output that failed (the disk is full, the output was closed)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return f"cannot write the output: {reason}"
    return f"cannot write {exc.filename}: {reason}"


def entry() -> None:
    """Console-script entry point: ``main``, then a fast exit for the headless commands.

    After a headless command has printed everything, freeing millions of small
    objects one by one would only delay the exit (about a second per GB of
    capture), so the process ends at once after flushing its output.
    """
    argv = sys.argv[1:]
    try:
        status = main(argv)
    except KeyboardInterrupt:  # after the command's own handling (while it reported an error)
        status = EXIT_INTERRUPTED
    except Terminated as exc:
        status = exc.status
    if argv and argv[0] in SUBCOMMANDS:
        ignore_endings()  # ending already: a second signal must not interrupt the clean-up
        try:
            if sys.stdout is not None:
                sys.stdout.flush()
        except BrokenPipeError:
            pass
        except OSError as exc:
            print(f"monoview: {_cannot_write(exc)}", file=sys.stderr)
            status = EXIT_EXPORT
        with contextlib.suppress(OSError):
            sys.stderr.flush()
        unpacked = sys.modules.get("monoview.core.capture.unpacked")
        if unpacked is not None:  # temporary copies of compressed or piped captures
            unpacked.remove_all()
        remove_tracked()  # and whatever temporary folder an interruption left
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
