"""Expressions of validation rules and indicators: `#{ELEMENT}` or `#{ELEMENT.COMBO}` operands, numbers,
`+ - * /` and parentheses; an operand may end in `.yearToDate()` or `.periodOffset(n)` (statistics.md §2.10).

Parsed into a small tree and evaluated against a lookup, never with `eval`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<operand>#\{(?P<de>[A-Za-z0-9_\-]+)(?:\.(?P<coc>[A-Za-z0-9_\-]+))?\}"
    r"(?:\.(?P<fn>yearToDate|periodOffset)\((?P<arg>-?\d*)\))?)"
    r"|(?P<number>\d+(?:\.\d+)?)|(?P<op>[-+*/()]))"
)


class ExpressionError(ValueError):
    """The expression cannot be parsed."""


@dataclass(frozen=True)
class Operand:
    """A reference to stored values: element, optional disaggregation, and a period modifier."""

    element: str
    combo: str | None = None
    year_to_date: bool = False
    period_offset: int = 0


Node = float | Operand | tuple[str, "Node", "Node"] | tuple[str, "Node"]


def _tokens(text: str) -> list[str | float | Operand]:
    out: list[str | float | Operand] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"unexpected text at {position}: {text[position : position + 12]!r}")
        position = match.end()
        if match.group("operand"):
            fn = match.group("fn")
            offset = 0
            if fn == "periodOffset":
                if not match.group("arg"):
                    raise ExpressionError("periodOffset needs a whole number")
                offset = int(match.group("arg"))
            out.append(Operand(match.group("de"), match.group("coc"), fn == "yearToDate", offset))
        elif match.group("number"):
            out.append(float(match.group("number")))
        else:
            out.append(match.group("op"))
    return out


class _Parser:
    def __init__(self, tokens: list[str | float | Operand]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | float | Operand | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str | float | Operand:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.position += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = str(self.take())
            node = (op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek() in ("*", "/"):
            op = str(self.take())
            node = (op, node, self.factor())
        return node

    def factor(self) -> Node:
        token = self.take()
        if token == "-":  # noqa: S105 - an operator token, not a secret
            return ("neg", self.factor())
        if token == "(":  # noqa: S105 - an operator token, not a secret
            node = self.expression()
            if self.take() != ")":
                raise ExpressionError("missing closing parenthesis")
            return node
        if isinstance(token, (float, Operand)):
            return token
        raise ExpressionError(f"unexpected {token!r}")


def parse(text: str) -> Node:
    """Parse an expression; raise ExpressionError if it is not well formed."""
    tokens = _tokens(text)
    if not tokens:
        raise ExpressionError("empty expression")
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r}")
    return node


def operands(node: Node) -> list[Operand]:
    """Return every operand of an expression tree, in order."""
    if isinstance(node, Operand):
        return [node]
    if isinstance(node, float):
        return []
    return [found for child in node[1:] for found in operands(child)]


def evaluate(node: Node, lookup: Callable[[Operand], float | None]) -> float | None:
    """Evaluate a tree, missing operands counting as 0; division by zero gives None."""
    if isinstance(node, float):
        return node
    if isinstance(node, Operand):
        return lookup(node) or 0.0
    if node[0] == "neg":
        inner = evaluate(node[1], lookup)
        return None if inner is None else -inner
    left = evaluate(node[1], lookup)
    right = evaluate(node[2], lookup)  # type: ignore[misc]  # binary nodes have three items
    if left is None or right is None:
        return None
    if node[0] == "+":
        return left + right
    if node[0] == "-":
        return left - right
    if node[0] == "*":
        return left * right
    return None if right == 0 else left / right
