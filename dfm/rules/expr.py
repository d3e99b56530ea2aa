"""A tiny, safe expression language for rule files.

Rules say what they compare as expressions over a feature's dims and props, the rule's
parameters and the run's context (material, finish, machine): ``"thickness_mm"``,
``"depth_mm / radius_mm"``, ``"orientation == 'vertical' and radius_mm > 0"``. Only
arithmetic, comparisons, ``and``/``or``/``not``, ``in``, string/number constants and the
functions below are allowed; anything else is rejected when the rule file is loaded.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "sqrt": math.sqrt,
}
CONSTANTS: dict[str, float] = {"pi": math.pi}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class ExprError(ValueError):
    """The expression is not allowed or cannot be parsed."""


class Missing(LookupError):  # noqa: N818 - a 'rule does not apply' signal (like StopIteration); public name
    """A name the expression needs has no value for this feature (it does not apply)."""


@dataclass(frozen=True)
class Expr:
    """A parsed expression and the names it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]

    def __call__(self, env: Mapping[str, Any]) -> Any:
        """Evaluate with ``env``; raises :class:`Missing` when a name has no value."""
        return _eval(self.tree.body, env)


def compile_expr(text: str | float | int) -> Expr:
    """Parse and check an expression (a number is a constant expression)."""
    if isinstance(text, bool):
        raise ExprError(f"expected an expression, got {text!r}")
    if isinstance(text, int | float):
        text = repr(float(text))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ExprError(f"cannot parse {text!r}: {err.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in FUNCTIONS and node.id not in CONSTANTS:
                names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise ExprError(f"{text!r}: only the functions {', '.join(sorted(FUNCTIONS))} may be called")
        elif not isinstance(node, _ALLOWED):
            raise ExprError(f"{text!r}: {type(node).__name__} is not allowed in rule expressions")
    return Expr(text, tree, frozenset(names))


_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Constant, ast.Name, ast.Load,
    ast.Tuple, ast.List, ast.IfExp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn,
)


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id not in env or env[node.id] is None:
            raise Missing(node.id)
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        val = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not val
        return -val if isinstance(node.op, ast.USub) else +val
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, env) for v in node.values)
        return any(_eval(v, env) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args))
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_eval(e, env) for e in node.elts)
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    raise ExprError(f"{type(node).__name__} is not allowed")  # pragma: no cover - compile_expr rejects it
