"""The event bus: listeners in order, events by name, failures isolated.

As in Net::Analysis, the event name is the method name.  A listener may claim
the ``first`` or ``last`` position (the TCP listener takes ``first`` so every
other listener sees augmented packets).  A listener that raises is reported and
the others still get the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from monoview.core.listener import Listener

log = logging.getLogger(__name__)

Position = Literal["first", "last"] | None


@dataclass
class ListenerFailure:
    """A listener raised while handling an event."""

    listener: str
    event: str
    error: str
    count: int = 1


@dataclass
class Dispatcher:
    """Delivers events to listeners in queue order."""

    listeners: list[Listener] = field(default_factory=list)
    failures: dict[tuple[str, str], ListenerFailure] = field(default_factory=dict)
    _first: Listener | None = None
    _last: Listener | None = None
    _table: dict[str, list[tuple[Listener, Callable[..., Any]]]] = field(default_factory=dict)

    def add_listener(self, listener: Listener, pos: Position = None) -> None:
        """Queue ``listener``; ``pos`` claims the first or last place (one listener each)."""
        if pos == "first":
            if self._first is not None:
                raise ValueError(f"{type(self._first).__name__} already holds the first position")
            self._first = listener
        elif pos == "last":
            if self._last is not None:
                raise ValueError(f"{type(self._last).__name__} already holds the last position")
            self._last = listener
        else:
            self.listeners.append(listener)
        listener.dispatcher = self
        self._table.clear()

    def ordered(self) -> list[Listener]:
        """Listeners in delivery order."""
        middle = list(self.listeners)
        return [x for x in (self._first, *middle, self._last) if x is not None]

    def handlers(self, event: str) -> list[tuple[Listener, Callable[..., Any]]]:
        """The (listener, bound method) pairs that handle ``event``, in delivery order."""
        return self._handlers(event)

    def _handlers(self, event: str) -> list[tuple[Listener, Callable[..., Any]]]:
        handlers = self._table.get(event)
        if handlers is None:
            base = getattr(Listener, event, None)
            handlers = []
            for listener in self.ordered():
                method = getattr(type(listener), event, None)
                if method is None or method is base:
                    continue
                handlers.append((listener, getattr(listener, event)))
            self._table[event] = handlers
        return handlers

    def emit(self, event: str, **args: Any) -> None:
        """Call ``event(**args)`` on every listener that handles it."""
        for listener, handler in self._handlers(event):
            try:
                handler(**args)
            except Exception as exc:  # noqa: BLE001 - a listener's bug must not stop the others
                self.record_failure(listener, event, exc)

    def record_failure(self, listener: Listener, event: str, exc: Exception) -> None:
        """Note that ``listener`` raised ``exc`` on ``event`` (logged once, then counted)."""
        name = type(listener).__name__
        key = (name, event)
        failure = self.failures.get(key)
        if failure is None:
            self.failures[key] = ListenerFailure(name, event, f"{type(exc).__name__}: {exc}")
            log.warning("listener %s failed on %s: %s", name, event, exc, exc_info=exc)
        else:
            failure.count += 1
