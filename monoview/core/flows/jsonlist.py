"""``sessions --json`` at the speed of string formatting, the same text as ``json``'s.

The listing is indented (``indent=1``) for people to read, and Python's
indenting encoder is pure Python: 37 s of a 300,000-session listing went to it.
Nearly every session entry has the same layout (the same keys, lists of the
same lengths), so the indenting encoder lays out one entry of each layout with
placeholders for its values (a template), and each session's values are
encoded alone, as ``json`` encodes them, and put in.  The text is ``json``'s
own layout by construction; ``tests/core/test_listing.py`` compares the two on
every shared capture.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii
from typing import Any, Final

_MARK: Final = "@@monoview-value@@"  # a placeholder (plain ASCII: json leaves it as it is)


def _scalar(value: object) -> str:
    """One value as ``json.dumps`` writes it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(encode_basestring_ascii(value))
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value)  # floats, with json's NaN and Infinity


def _walk(value: Any, values: list[object], shape: list[object]) -> None:
    """Collect ``value``'s scalars in order, and its layout: each dict's keys, each list's
    length (two values with the same layout are written alike but for their scalars)."""
    if isinstance(value, dict):
        shape.append(tuple(value))
        for item in value.values():
            _walk(item, values, shape)
    elif isinstance(value, list):
        shape.append(len(value))
        for item in value:
            _walk(item, values, shape)
    else:
        values.append(value)


def _masked(value: Any) -> Any:
    """``value`` with each scalar replaced by the placeholder."""
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return _MARK


def _template(entry: dict[str, Any]) -> str:
    """The indented text of ``entry``'s layout, with ``%s`` where its scalars go."""
    # An entry of a list in a member of the document: indented two levels.
    text = json.dumps([[_masked(entry)]], indent=1)
    body = text[len("[\n [\n") : -len("\n ]\n]")]
    return body.replace("%", "%%").replace(f'"{_MARK}"', "%s")


def entry_texts(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Each entry's text as ``json.dumps`` with ``indent=1`` lays it out two levels deep."""
    templates: dict[tuple[object, ...], str] = {}
    for entry in entries:
        values: list[object] = []
        shape: list[object] = []
        _walk(entry, values, shape)
        key = tuple(shape)
        template = templates.get(key)
        if template is None:
            template = templates[key] = _template(entry)
        yield template % tuple(_scalar(v) for v in values)


def listing_chunks(head: dict[str, Any], member: str, entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The document ``head`` with ``member`` set to ``entries``, as ``json`` writes it with
    ``indent=1``, in chunks (``head`` has small values only)."""
    texts = entry_texts(entries)
    first = next(texts, None)
    if first is None:
        yield json.dumps({**head, member: []}, indent=1)
        return
    outer = json.dumps({**head, member: [_MARK]}, indent=1)
    before, after = outer.split(f'  "{_MARK}"')
    yield before
    yield first
    for text in texts:
        yield ",\n"
        yield text
    yield after


__all__ = ["entry_texts", "listing_chunks"]
