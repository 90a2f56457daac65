"""A small, safe condition language for rules: comparisons and arithmetic over `value`, `prev` and `delta`."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from .exceptions import InvalidRule

NAMES = frozenset({"value", "prev", "delta"})
Condition = Callable[[dict[str, float]], bool]

_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Compare,
    ast.Gt,
    ast.GtE,
    ast.Lt,
    ast.LtE,
    ast.Eq,
    ast.NotEq,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
)


def _bad(vi: str, en: str, text: str) -> InvalidRule:
    return InvalidRule("expression", vi, en, expression=text)


def parse_condition(text: str) -> ast.Expression:
    """Parse and check an expression; raise InvalidRule with the position of the problem."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = exc.offset or 1
        raise _bad(
            f"Biểu thức không hợp lệ ở ký tự {column}: {text!r}.",
            f"The expression does not parse at character {column}: {text!r}.",
            text,
        ) from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise _bad(
                f"Biểu thức dùng cú pháp không được phép ({type(node).__name__}).",
                f"The expression uses a construct that is not allowed ({type(node).__name__}).",
                text,
            )
        if isinstance(node, ast.Name) and node.id not in NAMES and node.id != "abs":
            raise _bad(
                f"Biểu thức dùng tên không biết '{node.id}'; chỉ dùng được value, prev, delta, abs().",
                f"The expression uses an unknown name '{node.id}'; only value, prev, delta and abs() exist.",
                text,
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id == "abs" and len(node.args) == 1 and not node.keywords
        ):
            raise _bad(
                "Biểu thức chỉ được gọi hàm abs(x).",
                "The expression may only call abs(x).",
                text,
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise _bad(
                "Biểu thức chỉ được chứa số.",
                "The expression may only contain numbers.",
                text,
            )
    if not isinstance(tree.body, ast.Compare | ast.BoolOp) and not (
        isinstance(tree.body, ast.UnaryOp) and isinstance(tree.body.op, ast.Not)
    ):
        raise _bad(
            "Biểu thức phải là một phép so sánh, ví dụ: value > 3.",
            "The expression must be a comparison, e.g. value > 3.",
            text,
        )
    return tree


def _eval(node: ast.AST, env: dict[str, float]) -> float | bool:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return float(node.value) if isinstance(node.value, int | float) else math.nan
    if isinstance(node, ast.Name):
        return env.get(node.id, math.nan)
    if isinstance(node, ast.BoolOp):
        values = [bool(_eval(v, env)) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not operand
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return abs(_eval(node.args[0], env))
    if isinstance(node, ast.BinOp):
        left, right = float(_eval(node.left, env)), float(_eval(node.right, env))
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right if right else math.nan
    if isinstance(node, ast.Compare):
        left = float(_eval(node.left, env))
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = float(_eval(comparator, env))
            ok = {
                ast.Gt: left > right,
                ast.GtE: left >= right,
                ast.Lt: left < right,
                ast.LtE: left <= right,
                ast.Eq: left == right,
                ast.NotEq: left != right,
            }[type(op)]
            if not ok:
                return False
            left = right
        return True
    raise ValueError(type(node).__name__)  # parse_condition refuses everything else


def compile_condition(text: str) -> Condition:
    """Return a function evaluating a checked expression over named values (missing names are NaN)."""
    tree = parse_condition(text)
    return lambda env: bool(_eval(tree, env))
