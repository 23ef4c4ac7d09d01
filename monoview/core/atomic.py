"""Writing files safely (export, trace dumps): unnamed until complete, then given their name.

An interrupted export never leaves half a file under its final name.  On
Linux a file is written unnamed (``O_TMPFILE``) and linked into place once
complete: nothing is left behind if the process dies, and the folder changes
once per file instead of twice (create, rename).  That matters where worker
processes write into one folder: each change of a folder takes its lock, and
on ext4 two writers creating a tmp name and renaming it spent more time
spinning on that lock than writing (5,000 files from two processes: 5.6 s,
against 2.5 s linked).  Elsewhere, or when the target exists (``force``), the
file goes through a temporary sibling (``.NAME.PID.monoview-part``) renamed
into place.  Files are created with the user's umask, and nothing is synced
file by file (the exporter can sync once at the end).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Final, TypeAlias

from monoview.core.errors import ExportError

Chunk: TypeAlias = bytes | memoryview  # what a file is written from (a view into the capture, often)

PART_SUFFIX: Final = ".monoview-part"
O_TMPFILE: Final = getattr(os, "O_TMPFILE", 0)
BLOCK: Final = 1 << 20  # bytes gathered before each write
IOV_MAX: Final = 1024  # buffers per writev (the POSIX minimum is 16; Linux and macOS allow 1024)


@dataclass
class WrittenFile:
    """A file the export wrote: its path relative to the output folder, size and hash."""

    path: str
    length: int
    sha256: str


class _Unnamed:
    """Whether unnamed files work here (decided by the first that fails, once per process)."""

    works = bool(O_TMPFILE) and os.path.isdir("/proc/self/fd")


class AtomicWriter:
    """Write a file unnamed and link it into place, or through a temporary sibling renamed
    into place."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        relative: str,
        force: bool,
        *,
        checked: bool = False,
        made: set[str] | None = None,
    ) -> None:
        """``checked``: the caller refused existing targets already; ``made``: folders known
        to exist (updated here), so a folder is created once, not once per file.

        Paths are plain strings: with tens of thousands of files, ``pathlib``
        costs as much as the writing.
        """
        self.root = os.fspath(root)
        self.relative = relative
        self.force = force
        self.target = os.path.join(self.root, relative)
        if not checked and not force and os.path.exists(self.target):
            raise ExportError(f"{self.target} exists; use --force to overwrite it")
        self.parent, self.name = os.path.split(self.target)
        if made is None or self.parent not in made:
            make_folders(self.root, self.parent, force, made)

    def write(self, chunks: Iterable[Chunk]) -> WrittenFile:
        """Write all chunks, hashing them; return what was written.

        Chunks (a segment's payload each, often, as views into the capture)
        go to the file a batch at a time with ``writev``: copied once, by the
        kernel, and one system call per MiB or so.
        """
        import hashlib  # 3 ms: only once something is written (the window imports this module)

        digest = hashlib.sha256()
        length = 0
        pid = os.getpid()
        tmp = os.path.join(self.parent, f".{self.name}.{pid}{PART_SUFFIX}")
        fd, unnamed = self._create(tmp)
        try:
            try:
                pending: list[Chunk] = []
                size = 0
                for chunk in chunks:
                    if not chunk:
                        continue
                    digest.update(chunk)
                    pending.append(chunk)
                    size += len(chunk)
                    if size >= BLOCK or len(pending) >= IOV_MAX:
                        _write_all(fd, pending)
                        length += size
                        pending, size = [], 0
                if pending:
                    _write_all(fd, pending)
                    length += size
                if unnamed:
                    self._name(fd, tmp, pid)
            finally:
                os.close(fd)
            if not unnamed:
                os.replace(tmp, self.target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return WrittenFile(self.relative, length, digest.hexdigest())

    def _create(self, tmp: str) -> tuple[int, bool]:
        """An unnamed file in the target's folder if that works here, else ``tmp``; and
        which of the two it is.  0o666: the user's umask applies."""
        if _Unnamed.works:
            try:
                return os.open(self.parent, O_TMPFILE | os.O_WRONLY, 0o666), True
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                _Unnamed.works = False  # this file system (or kernel) has no unnamed files
        # O_EXCL: nothing there is followed or reused.
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666), False

    def _name(self, fd: int, tmp: str, pid: int) -> None:
        """Give the complete unnamed file ``fd`` its name (a target that exists: only with
        ``force``, replaced through ``tmp``).

        ``src_dir_fd`` makes this linkat(..., AT_SYMLINK_FOLLOW) (the file, not the /proc
        link) without opening the target's folder for each file: an export of 20,000 tiny
        sessions writes 60,000 files, and that open and close were a fifth of its system calls.
        """
        try:
            os.link(str(fd), self.target, src_dir_fd=_proc_fds(pid))
            return
        except FileExistsError:
            if not self.force:
                raise ExportError(f"{self.target} exists; use --force to overwrite it") from None
        os.link(str(fd), tmp, src_dir_fd=_proc_fds(pid))
        os.replace(tmp, self.target)


class _ProcFds:
    """This process's ``/proc/self/fd``, opened once (again in a forked child: the folder
    opened before the fork lists the parent's files)."""

    pid = -1
    fd = -1


def _proc_fds(pid: int) -> int:
    """The ``/proc/self/fd`` folder of process ``pid`` (this one)."""
    if _ProcFds.pid != pid:
        _ProcFds.fd = os.open("/proc/self/fd", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
        _ProcFds.pid = pid
    return _ProcFds.fd


def refuse_existing(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Raise ExportError, before anything is written, if one of ``names`` (direct children
    of ``folder``) exists: one listing of the folder answers for all of them."""
    try:
        present = set(os.listdir(folder))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise ExportError(f"{os.fspath(folder)} is not a folder") from None
    if not present:
        return
    existing = [os.path.join(folder, name) for name in names if name in present]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ExportError(f"{existing[0]} exists{more}; use --force to overwrite")


def make_folders(root: str, folder: str, force: bool, made: set[str] | None = None) -> None:
    """Make ``folder`` and the folders between it and ``root``, never through a link.

    A link planted under the output folder (a session's folder, its
    ``monologues``) would take the files elsewhere: it is refused, or with
    ``force`` replaced by a folder (the link itself goes, what it points to
    stays untouched).  ``root`` itself is the user's choice and may be a link.

    ``made``: folders this writer's export made or checked already (updated
    here).  An export of 20,000 tiny sessions makes 40,000 folders; for each,
    ``root`` made again and every folder above it tried again (a failed
    ``mkdir`` and an ``lstat`` each) were most of its folder system calls.
    """
    if made is None or root not in made:
        os.makedirs(root, exist_ok=True)
        if made is not None:
            made.add(root)
    parts = folder[len(root) + 1 :].split(os.sep) if folder.startswith(root + os.sep) else []
    if not parts or any(part in ("", os.curdir, os.pardir) for part in parts):
        relative = os.path.relpath(folder, root)
        if relative == os.curdir:
            return
        parts = relative.split(os.sep)
    path = root
    for part in parts:
        path = os.path.join(path, part)
        if made is not None and path in made:
            continue
        _make_folder(path, force)
        if made is not None:
            made.add(path)


def _make_folder(path: str, force: bool) -> None:
    """Make the folder ``path`` (its parent exists): one there is kept, a link refused or
    (``force``) replaced, anything else is in the way."""
    try:
        os.mkdir(path)
        return
    except FileExistsError:
        mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        if not force:
            raise ExportError(f"{path} is a link; monoview writes through no link (--force replaces it)")
        os.unlink(path)
        os.mkdir(path)
    elif not stat.S_ISDIR(mode):
        raise ExportError(f"{path} is in the way: not a folder")


def _write_all(fd: int, chunks: list[Chunk]) -> None:
    """``writev`` until every byte of ``chunks`` is written (a write may be partial)."""
    first = 0
    while first < len(chunks):
        written = os.writev(fd, chunks[first:] if first else chunks)
        while first < len(chunks) and written >= len(chunks[first]):
            written -= len(chunks[first])
            first += 1
        if written:
            chunks[first] = memoryview(chunks[first])[written:]


def write_chunks(handle: IO[bytes], chunks: Iterable[Chunk]) -> int:
    """Write chunks to an open binary stream (stdout for ``follow``); return the byte count."""
    total = 0
    for chunk in chunks:
        handle.write(chunk)
        total += len(chunk)
    return total
