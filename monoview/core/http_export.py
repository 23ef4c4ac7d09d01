"""``monoview http --export DIR``: every HTTP object written as a file, and a manifest.

The bodies are written where they are found: each worker process writes the objects
of its sessions, decoded, through the atomic writer into ``DIR/.monoview-http-parts``
as the transactions complete, and keeps only their facts, so no body travels between
processes or waits in memory for the end.  The names (tshark's, made unique over the
whole capture in order of time, :func:`~monoview.core.http_objects.unique_names`) are
known only once every worker is done; the main process then checks that none of them
exists (unless ``force``), moves each part to its name (a rename: the file appears
whole or not at all) and writes ``manifest.json``.  An interrupted export leaves at
most the parts folder, which the next export into ``DIR`` reuses and removes.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from monoview.core.atomic import AtomicWriter, refuse_existing
from monoview.core.http import HttpListener, HttpMessage, HttpRow, HttpTransaction, http_row
from monoview.core.http_objects import HttpObject, objects_of, unique_names
from monoview.core.listener import Listener

if TYPE_CHECKING:
    from monoview.core.document import CaptureDocument

MANIFEST: Final = "manifest.json"
PARTS: Final = ".monoview-http-parts"


def _stripped(message: HttpMessage | None) -> HttpMessage | None:
    return None if message is None else replace(message, body=b"", decoded=None)


@dataclass
class PartSink:
    """Writes a transaction's objects into the parts folder and keeps their facts."""

    folder: str
    found: list[tuple[int, tuple[HttpRow, list[HttpObject]]]] = field(default_factory=list)
    made: set[str] = field(default_factory=set)

    def __call__(self, t: HttpTransaction) -> HttpTransaction:
        """Override of HttpListener's sink: write, remember, and pass on without bodies."""
        kept = []
        for obj in objects_of(t, keep_data=True):
            assert obj.data is not None
            part = f"{t.session.id}-{t.index}-{obj.direction}"
            writer = AtomicWriter(self.folder, os.path.join(PARTS, part), True, made=self.made)
            writer.write([memoryview(obj.data)])
            kept.append(obj._replace(data=None, part=part))
        response = next((o for o in kept if o.direction == "response"), None)
        decoded = response.decoded_size if response else (None if t.response is None else 0)
        self.found.append((t.session.id, (http_row(t, decoded), kept)))
        return replace(t, request=_stripped(t.request), response=_stripped(t.response))


@dataclass(frozen=True)
class ExportListeners:
    """What each worker runs for an export into ``folder`` (picklable: a folder, no state)."""

    folder: str

    def __call__(self) -> list[Listener]:
        """A fresh HttpListener whose transactions go through a PartSink."""
        return [HttpListener(keep_bodies=True, sink=PartSink(self.folder))]


def export_rows(listeners: list[Listener]) -> list[tuple[int, tuple[HttpRow, list[HttpObject]]]]:
    """Each transaction's row and its objects (written to parts), from the listeners'
    sinks, or with their data from a plain ``HttpListener(keep_bodies=True)``."""
    out: list[tuple[int, tuple[HttpRow, list[HttpObject]]]] = []
    for listener in listeners:
        if isinstance(listener, HttpListener):
            if isinstance(listener.sink, PartSink):
                out.extend(listener.sink.found)
                continue
            for t in listener.transactions:
                found = objects_of(t, keep_data=True)
                response = next((o for o in found if o.direction == "response"), None)
                decoded = response.decoded_size if response else (None if t.response is None else 0)
                out.append((t.session.id, (http_row(t, decoded), found)))
    return out


@dataclass
class ExportResult:
    """What an export wrote: the objects' files and the manifest."""

    files: list[str]
    manifest: dict[str, Any]


def manifest_entry(obj: HttpObject, name: str) -> dict[str, Any]:
    """The manifest's record of one object."""
    record = obj._asdict()
    del record["data"], record["part"]
    record["file"] = name
    record["gap"] = None if obj.gap is None else {"offset": obj.gap[0], "size": obj.gap[1]}
    return record


def refuse_manifest(folder: str | os.PathLike[str], force: bool) -> None:
    """Refuse an export into a folder that holds one already, before any work (unless
    ``force``); the objects' own names are checked once they are known."""
    if not force:
        refuse_existing(folder, [MANIFEST])


def export_objects(
    objects: list[HttpObject], folder: str | os.PathLike[str], force: bool, capture: str
) -> ExportResult:
    """Give each object its file under ``folder``, then write ``manifest.json`` listing them.

    An object holds its decoded body (written here through the atomic writer) or names
    the part a worker wrote (renamed into place).  Existing files are refused before any
    is named, unless ``force``; the parts are then removed.
    """
    root = os.fspath(folder)
    parts = os.path.join(root, PARTS)
    names = unique_names(objects)
    if not force:
        try:
            refuse_existing(root, [*names, MANIFEST])
        except BaseException:
            shutil.rmtree(parts, ignore_errors=True)
            raise
    made: set[str] = set()
    entries = []
    for obj, name in zip(objects, names, strict=True):
        if obj.part is not None:
            os.replace(os.path.join(parts, obj.part), os.path.join(root, name))
        else:
            assert obj.data is not None, "objects for an export keep their data or a part"
            AtomicWriter(root, name, force, checked=not force, made=made).write([memoryview(obj.data)])
        entries.append(manifest_entry(obj, name))
    shutil.rmtree(parts, ignore_errors=True)
    manifest = {"capture": capture, "objects": entries}
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    AtomicWriter(root, MANIFEST, force, checked=not force, made=made).write([text.encode("utf-8")])
    return ExportResult(names, manifest)


def time_order(objects: list[HttpObject]) -> list[HttpObject]:
    """Objects in the order tshark numbers repeated names: by time (a request's body before
    its response's)."""
    return sorted(objects, key=lambda o: (o.ts_ns, o.session, o.transaction, o.direction != "request"))


ObjectKey = tuple[int, int, str]  # session, transaction, direction


def object_key(obj: HttpObject) -> ObjectKey:
    """What picks an object out of a capture, whether listed or exported."""
    return obj.session, obj.transaction, obj.direction


def listed_objects(listeners: list[Listener]) -> list[tuple[int, HttpObject]]:
    """Every object the listeners found, facts only (no body kept): a list to choose from."""
    out: list[tuple[int, HttpObject]] = []
    for listener in listeners:
        if isinstance(listener, HttpListener):
            for t in listener.transactions:
                out.extend((t.session.id, obj) for obj in objects_of(t, keep_data=False))
    return out


def list_objects(document: CaptureDocument) -> list[HttpObject]:
    """Every HTTP object of a document, in time order (sessions read in worker processes)."""
    from monoview.core.fanout import map_sessions
    from monoview.core.http import http_listeners

    found, _failures = map_sessions(document, http_listeners, listed_objects)
    return time_order(found)


def export_chosen(
    document: CaptureDocument, folder: str | os.PathLike[str], chosen: set[ObjectKey] | None, force: bool
) -> ExportResult:
    """Write the objects ``chosen`` (None: all) of a document into ``folder``, with a manifest;
    the others are not written.  Names are made unique among those written (a chosen
    ``logo(1).png`` of the whole list is ``logo.png`` when the first one is not chosen)."""
    from monoview.core.fanout import map_sessions

    refuse_manifest(folder, force)
    pairs, _failures = map_sessions(document, ExportListeners(os.fspath(folder)), export_rows)
    objects = time_order([obj for _row, found in pairs for obj in found])
    if chosen is not None:
        objects = [obj for obj in objects if object_key(obj) in chosen]
    return export_objects(objects, folder, force, document.name)
