"""Segments: a saved filter over contact attributes, parsed safely (no SQL text, ever).

A filter reads like ``plan = premium AND state IN (CA, NV)``:

    filter     := or
    or         := and ("OR" and)*
    and        := term ("AND" term)*
    term       := "(" or ")" | NAME op value | NAME ["NOT"] "IN" "(" value ("," value)* ")"
    op         := "=" | "!="
    value      := a bare word (letters, digits, _ . + - : @ /) or a quoted string ('...' or "...",
                  the quote doubled inside)

Keywords are case-insensitive; attribute names are case-sensitive identifiers. Every value is
compared as text (an attribute stored as the number 30 matches ``age = 30``). `parse` returns a
tree of plain values that the selectors turn into ORM lookups on the JSON column
(campaigns.selectors.audiences) and that `matches` evaluates in Python: the two must agree
(tests/campaigns/rules/test_segments.py checks them against each other on both databases).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 2000
MAX_CONDITIONS = 50
MAX_VALUES = 200
MAX_DEPTH = 8
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) | (?P<comma>,) | (?P<op>!=|=)
      | '(?P<single>(?:[^']|'')*)' | "(?P<double>(?:[^"]|"")*)"
      | (?P<word>[A-Za-z0-9_.+\-:@/]+)
    )""",
    re.VERBOSE,
)
KEYWORDS = frozenset({"AND", "OR", "NOT", "IN"})


class SegmentSyntaxError(ValueError):
    """A filter that cannot be read; the message says where and why, for people."""


@dataclass(frozen=True)
class Condition:
    """``attribute op values``: op is one of "=", "!=", "in", "not in"; = and != have one value."""

    attribute: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


Node = Condition | AllOf | AnyOf


@dataclass(frozen=True)
class _Token:
    kind: str  # open, close, comma, op, text (quoted), word
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = len(text) - len(text[position:].lstrip())
            raise SegmentSyntaxError(f"cannot read {text[start : start + 10]!r} at character {start + 1}")
        kind = match.lastgroup or ""
        value, at = match.group(kind), match.start(kind) + 1
        if kind == "single":
            kind, value = "text", value.replace("''", "'")
        elif kind == "double":
            kind, value = "text", value.replace('""', '"')
        found.append(_Token(kind, value, at))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.conditions = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() == word:
            self.index += 1
            return True
        return False

    def expect(self, kind: str, what: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            where = f"at character {token.at}" if token else "at the end"
            raise SegmentSyntaxError(f"expected {what} {where}")
        self.index += 1
        return token

    def either(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise SegmentSyntaxError(f"nests parentheses deeper than {MAX_DEPTH}")
        items = [self.all(depth)]
        while self.keyword("OR"):
            items.append(self.all(depth))
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def all(self, depth: int) -> Node:
        items = [self.term(depth)]
        while self.keyword("AND"):
            items.append(self.term(depth))
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def term(self, depth: int) -> Node:
        token = self.peek()
        if token is not None and token.kind == "open":
            self.index += 1
            node = self.either(depth + 1)
            self.expect("close", "')'")
            return node
        name = self.expect("word", "an attribute name")
        if not NAME.fullmatch(name.text) or name.text.upper() in KEYWORDS:
            raise SegmentSyntaxError(
                f"{name.text!r} at character {name.at} is not an attribute name "
                "(letters, digits and _, not starting with a digit)"
            )
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise SegmentSyntaxError(f"has more than {MAX_CONDITIONS} conditions")
        negated = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect("open", "'(' after IN")
            values = [self.value()]
            while self.peek() is not None and self.peek().kind == "comma":  # type: ignore[union-attr]
                self.index += 1
                values.append(self.value())
            self.expect("close", "')' after the values")
            if len(values) > MAX_VALUES:
                raise SegmentSyntaxError(f"lists more than {MAX_VALUES} values after IN")
            return Condition(name.text, "not in" if negated else "in", tuple(values))
        if negated:
            raise SegmentSyntaxError(f"expected IN after NOT (character {name.at})")
        op = self.expect("op", "= or != or IN")
        return Condition(name.text, op.text, (self.value(),))

    def value(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("word", "text"):
            where = f"at character {token.at}" if token else "at the end"
            raise SegmentSyntaxError(f"expected a value {where}")
        self.index += 1
        return token.text


def parse(text: str) -> Node:
    """The filter's tree. Raises SegmentSyntaxError (with where and why) for anything else."""
    if not text.strip():
        raise SegmentSyntaxError("is empty: write a condition such as plan = premium")
    if len(text) > MAX_LENGTH:
        raise SegmentSyntaxError(f"is longer than {MAX_LENGTH} characters")
    parser = _Parser(text)
    node = parser.either(0)
    rest = parser.peek()
    if rest is not None:
        raise SegmentSyntaxError(f"expected AND, OR or the end at character {rest.at}")
    return node


def render(node: Node) -> str:
    """The filter written back in its canonical spelling (what `parse` reads to the same tree)."""
    if isinstance(node, Condition):
        values = [_quoted(v) for v in node.values]
        if node.op in ("=", "!="):
            return f"{node.attribute} {node.op} {values[0]}"
        return f"{node.attribute} {node.op.upper()} ({', '.join(values)})"
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    return joiner.join(
        f"({render(item)})" if not isinstance(item, Condition) else render(item) for item in node.items
    )


def _quoted(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.+\-:@/]+", value) and value.upper() not in KEYWORDS:
        return value
    return "'" + value.replace("'", "''") + "'"


def as_text(value: Any) -> str | None:
    """An attribute's value as segments compare it; None for an absent or null one."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value)


def matches(node: Node, attributes: Mapping[str, Any]) -> bool:
    """Whether a contact with these attributes is in the segment. An absent attribute equals
    nothing, is not in any list, and is never "!=" or "NOT IN" anything either (SQL's rule)."""
    if isinstance(node, AllOf):
        return all(matches(item, attributes) for item in node.items)
    if isinstance(node, AnyOf):
        return any(matches(item, attributes) for item in node.items)
    value = as_text(attributes.get(node.attribute))
    if value is None:
        return False
    if node.op in ("=", "in"):
        return value in node.values
    return value not in node.values


def attributes_of(node: Node) -> set[str]:
    """Every attribute the filter reads (for showing a segment's columns)."""
    if isinstance(node, Condition):
        return {node.attribute}
    return set().union(*(attributes_of(item) for item in node.items))
