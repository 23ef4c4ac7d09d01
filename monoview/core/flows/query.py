"""The session filter: a Wireshark-like expression over the session list's columns.

Two kinds of text are accepted, and may be mixed:

* quick terms, as typed in a search box: an address (``10.1.1.6`` matches that
  address exactly, never ``10.1.1.60``; ``10.1.0.0/16`` a network), an endpoint
  (``10.1.1.6:80``, ``[2001:db8::1]:443``), ``:80`` or ``80`` (a port of either
  side), ``#12`` (the session with that id), ``"a phrase"`` or a plain word (found
  in the payload of one of the session's monologues, ASCII case ignored);
* the commonest display-filter forms: ``ip.addr == A`` (also ``ipv6.addr``,
  ``ip.src``/``ip.dst`` for the client/server side, ``!=``), ``tcp.port``,
  ``tcp.srcport``/``tcp.dstport`` (client/server port, with ``==``, ``!=``, ``<``,
  ``<=``, ``>``, ``>=``), ``tcp.stream == N`` (Wireshark's stream index: sessions
  counted from 0 in order of first packet), ``vlan.id == N`` (any tag),
  ``frame contains "x"`` (or ``tcp.payload``/``data``: case-sensitive, within one
  monologue), ``app == "tls"`` (the application column's protocol, any case) and
  ``app contains "example"`` (anywhere in its text), joined with ``&&``/``and``,
  ``||``/``or``, ``!``/``not`` and parentheses.  Terms next to each other must all match.

Anything else (another field, a malformed address) raises ``QueryError`` with a
sentence saying what is supported: a filter never silently shows nothing.

Everything but payload is a numpy mask computed at once.  Payload phrases need
the sessions' bytes; ``Query.decided`` says for which sessions the answer does
not depend on them, so a search needs to read only the others.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.errors import MonoviewError
from monoview.core.flows.columns import EndpointColumns, SessionColumns

Mask = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]

SUPPORTED: Final = (
    "ip.addr, ip.src, ip.dst, tcp.port, tcp.srcport, tcp.dstport, tcp.stream, vlan.id, "
    'app == "name", frame contains "text"'
)
APP_FIELDS: Final = frozenset({"app", "application"})
ADDRESS_FIELDS: Final = {
    "ip.addr": "any", "ipv6.addr": "any", "ip.host": "any",
    "ip.src": "client", "ipv6.src": "client", "ip.dst": "server", "ipv6.dst": "server",
}  # fmt: skip
PORT_FIELDS: Final = {"tcp.port": "any", "tcp.srcport": "client", "tcp.dstport": "server"}
LOW: Final = 2**64 - 1
PAYLOAD_FIELDS: Final = frozenset({"frame", "tcp.payload", "data", "data.data", "tcp"})
COMPARISONS: Final = {
    "==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", "<=": "<=", "le": "<=",
    ">": ">", "gt": ">", ">=": ">=", "ge": ">=",
}  # fmt: skip
_TOKEN: Final = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||==|!=|<=|>=|[!()<>])|(?P<word>[^\s()!<>=&|"]+))"""
)


class QueryError(MonoviewError):
    """The filter text is not one monoview understands (the message says what is)."""


@dataclass(frozen=True)
class Phrase:
    """Bytes to find in a session's payload (within one monologue)."""

    text: bytes
    case_sensitive: bool

    def found_in(self, data: bytes) -> bool:
        """True if the phrase is in ``data`` (ASCII case folded unless case-sensitive)."""
        return self.text in data if self.case_sensitive else self.text.lower() in data.lower()


Payload = Callable[[Phrase], Mask]


class Node:
    """A part of the expression: a mask over the sessions."""

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        raise NotImplementedError


@dataclass(frozen=True)
class Not(Node):
    inner: Node

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        return ~self.inner.mask(columns, payload)


@dataclass(frozen=True)
class All(Node):
    parts: tuple[Node, ...]

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        result = np.ones(len(columns), dtype=np.bool_)
        for part in self.parts:
            result &= part.mask(columns, payload)
        return result


@dataclass(frozen=True)
class Any(Node):
    parts: tuple[Node, ...]

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        result = np.zeros(len(columns), dtype=np.bool_)
        for part in self.parts:
            result |= part.mask(columns, payload)
        return result


@dataclass(frozen=True)
class Address(Node):
    """An address or network on one side (``client``, ``server`` or ``any``), maybe with a port."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    side: str
    port: int | None = None

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        sides = {"client": [columns.client], "server": [columns.server]}.get(
            self.side, [columns.client, columns.server]
        )
        result = np.zeros(len(columns), dtype=np.bool_)
        for side in sides:
            result |= self._on(side)
        return result

    def _on(self, side: EndpointColumns) -> Mask:
        net = self.network
        value, mask = int(net.network_address), int(net.netmask)
        # Both halves of the 128-bit address (an IPv4 one is all in the low half).
        hi_value, lo_value = value >> 64, value & LOW
        hi_mask, lo_mask = mask >> 64, mask & LOW
        hit: Mask = side.family == net.version
        hit &= (side.hi & np.uint64(hi_mask)) == np.uint64(hi_value)
        hit &= (side.lo & np.uint64(lo_mask)) == np.uint64(lo_value)
        if self.port is not None:
            hit &= side.port == self.port
        return hit


@dataclass(frozen=True)
class Compare(Node):
    """A numeric column compared with a number."""

    field: str
    op: str
    value: int

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        if self.field in PORT_FIELDS:
            side = PORT_FIELDS[self.field]
            values = [columns.client.port] if side == "client" else [columns.server.port]
            if side == "any":
                values = [columns.client.port, columns.server.port]
            if self.op == "!=":  # as Wireshark's !=: neither port is N
                return ~_either([v == self.value for v in values])
            return _either([_compare(v, self.op, self.value) for v in values])
        if self.field == "tcp.stream":
            return columns.stream_mask(self.op, self.value, _compare)
        if self.field == "session":
            return _compare(columns.ids, self.op, self.value)
        return _vlan_mask(columns, self.op, self.value)


@dataclass(frozen=True)
class Contains(Node):
    phrase: Phrase

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        return payload(self.phrase)


@dataclass(frozen=True)
class Application(Node):
    """The application column: its protocol is ``value`` (``==``, ``!=``), or its text holds
    it (``contains``); any case.  No session matches before the names are known."""

    op: str
    value: str

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        names = columns.applications
        if names is None:
            return np.zeros(len(columns), dtype=np.bool_)
        wanted = self.value.lower()
        if self.op == "contains":
            return np.array([wanted in name.lower() for name in names], dtype=np.bool_)
        hit = np.array([name.split(" ", 1)[0].lower() == wanted for name in names], dtype=np.bool_)
        return ~hit if self.op == "!=" else hit


def _compare(values: I64, op: str, value: int) -> Mask:
    ops: dict[str, Callable[[I64, int], Mask]] = {
        "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
        ">": np.greater, ">=": np.greater_equal,
    }  # fmt: skip
    result: Mask = ops[op](values, value)
    return result


def _either(masks: list[Mask]) -> Mask:
    result = masks[0].copy()
    for mask in masks[1:]:
        result |= mask
    return result


def _vlan_mask(columns: SessionColumns, op: str, value: int) -> Mask:
    """Sessions with a VLAN tag ``op`` ``value`` (``!=``: none of their tags is it)."""
    flows = columns.flows
    codes = flows.keys.context[columns.rows["flow"]] >> 32
    wanted = "==" if op == "!=" else op
    tags_of = [np.array(tags, dtype=np.int64) for tags in flows.contexts]
    tagged = np.array([bool(_compare(tags, wanted, value).any()) for tags in tags_of], dtype=np.bool_)
    hit: Mask = tagged[codes]
    return ~hit if op == "!=" else hit


@dataclass(frozen=True)
class Query:
    """A parsed filter."""

    text: str
    root: Node
    phrases: tuple[Phrase, ...]

    def mask(self, columns: SessionColumns, payload: Payload) -> Mask:
        """The sessions that match, given each phrase's matches."""
        return self.root.mask(columns, payload)

    def decided(self, columns: SessionColumns) -> tuple[Mask, Mask]:
        """Which sessions the payload cannot change, and their answer.

        The expression is evaluated as if every phrase were in every session
        and as if none were; where both agree, no byte needs reading.
        """
        n = len(columns)
        everywhere = self.mask(columns, lambda _p: np.ones(n, dtype=np.bool_))
        nowhere = self.mask(columns, lambda _p: np.zeros(n, dtype=np.bool_))
        return everywhere == nowhere, nowhere


def parse_query(text: str) -> Query | None:
    """The filter in ``text``; None when it is empty.  Raises QueryError."""
    tokens = _tokens(text)
    if not tokens:
        return None
    parser = _Parser(tokens)
    root = parser.expression()
    if parser.peek() is not None:
        raise QueryError(f"The filter has something unexpected at “{parser.peek()}”.")
    return Query(text, root, tuple(dict.fromkeys(parser.phrases)))


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            if text[position:].strip():
                raise QueryError(f"The filter cannot be read at “{text[position:].strip()}”.")
            break
        token = found.group("string") or found.group("op") or found.group("word")
        if token:
            tokens.append(token)
        position = found.end()
    return tokens


class _Parser:
    """Recursive descent: or := and (|| and)*; and := not (&&? not)*; not := !not | atom."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0
        self.phrases: list[Phrase] = []

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise QueryError("The filter ends too early.")
        self.at += 1
        return token

    def expression(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() in ("||", "or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Any(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.peek() is not None and self.peek() not in ("||", "or", ")"):
            if self.peek() in ("&&", "and"):
                self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def negation(self) -> Node:
        if self.peek() in ("!", "not"):
            self.take()
            return Not(self.negation())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token == "(":
            inner = self.expression()
            if self.peek() != ")":
                raise QueryError("A “(” in the filter is not closed.")
            self.take()
            return inner
        if token in (")", "&&", "||", "==", "!=", "<", "<=", ">", ">="):
            raise QueryError(f"The filter has “{token}” where a term was expected.")
        following = self.peek()
        if following is not None and (following in COMPARISONS or following in ("contains", "~")):
            return self.field_test(token)
        return self.quick(token)

    def field_test(self, field: str) -> Node:
        op = self.take()
        value = self.take()
        name = field.lower()
        if name in APP_FIELDS and (op in ("contains", "~") or COMPARISONS.get(op) in ("==", "!=")):
            return Application("contains" if op in ("contains", "~") else COMPARISONS[op], _unquote(value))
        if op in ("contains", "~"):
            if name not in PAYLOAD_FIELDS:
                raise QueryError(f'“{field} contains” is not supported: use frame contains "text".')
            return self._phrase(_unquote(value), case_sensitive=True)
        op = COMPARISONS[op]
        if name in ADDRESS_FIELDS:
            if op not in ("==", "!="):
                raise QueryError(f"{field} can only be compared with == or !=.")
            node: Node = Address(_network(value), ADDRESS_FIELDS[name])
            return Not(node) if op == "!=" else node
        if name in PORT_FIELDS or name in ("tcp.stream", "vlan.id", "vlan"):
            return Compare(name if name != "vlan" else "vlan.id", op, _number(value, field))
        raise QueryError(f"The filter field “{field}” is not supported; monoview knows {SUPPORTED}.")

    def quick(self, token: str) -> Node:
        if token.startswith('"'):
            return self._phrase(_unquote(token), case_sensitive=False)
        if token.startswith("#") and token[1:].isdigit():
            return Compare("session", "==", int(token[1:]))
        if token.startswith(":") and token[1:].isdigit():
            return Compare("tcp.port", "==", _number(token[1:], token))
        if token.isdigit():
            return Compare("tcp.port", "==", _number(token, token))
        endpoint = _endpoint(token)
        if endpoint is not None:
            return endpoint
        if token.lower() in (*ADDRESS_FIELDS, *PORT_FIELDS, *APP_FIELDS, "tcp.stream", "vlan.id"):
            raise QueryError(f"“{token}” needs a comparison, as in {token} == value.")
        return self._phrase(token, case_sensitive=False)

    def _phrase(self, text: str, case_sensitive: bool) -> Node:
        if not text:
            raise QueryError("An empty phrase cannot be searched for.")
        phrase = Phrase(text.encode("utf-8"), case_sensitive)
        self.phrases.append(phrase)
        return Contains(phrase)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _number(text: str, field: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise QueryError(f"{field} needs a number, not “{text}”.") from None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        raise QueryError(f"“{text}” is not an IP address or network.") from None


def _endpoint(token: str) -> Node | None:
    """An address, network or endpoint typed as a quick term; None if the token is none."""
    address, port = token, None
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", token)
    if bracketed:
        address, port = bracketed.group(1), bracketed.group(2)
    elif token.count(":") == 1 and re.fullmatch(r"[0-9.]+(/\d+)?:\d+", token):
        address, port = token.split(":")
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None
    if "/" not in address and not _looks_like_address(address):
        return None
    return Address(network, "any", int(port) if port is not None else None)


def _looks_like_address(text: str) -> bool:
    """A full IPv4 dotted quad or an IPv6 address (``ip_network`` also takes ``80`` as 0.0.0.80)."""
    return text.count(".") == 3 or ":" in text


__all__ = ["Phrase", "Query", "QueryError", "SUPPORTED", "parse_query"]
