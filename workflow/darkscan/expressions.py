"""Safe evaluation of cut expressions from config.

An expression is parsed with :mod:`ast` and checked against a whitelist (names of known
variables, numbers, arithmetic, comparisons, ``&``, ``|``, ``~`` and a few functions) before it
is handed to numexpr, which evaluates it vectorised. Config text never reaches Python ``eval``.
"""

from __future__ import annotations

import ast

import numexpr
import numpy as np

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
    ast.And,
    ast.Or,
    ast.BitAnd,
    ast.BitOr,
    ast.Invert,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.Mod,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
)
_ALLOWED_FUNCTIONS = {"abs", "sqrt", "cos", "sin", "tan", "arccos", "arcsin", "arctan2", "log", "exp", "where"}


class ExpressionError(ValueError):
    """A cut expression is not allowed or names an unknown variable (``unknown``: that name)."""

    def __init__(self, message: str, *, unknown: str | None = None) -> None:
        super().__init__(message)
        self.unknown = unknown


def check_expression(expr: str, variables: set[str] | frozenset[str]) -> list[str]:
    """Check ``expr`` against the whitelist; return the variable names it uses.

    Raises:
        ExpressionError: naming the expression and the offending element.
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cut expression {expr!r} is not valid syntax: {err.msg}") from None
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"cut expression {expr!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, bool)):
            raise ExpressionError(f"cut expression {expr!r}: only numeric constants are allowed, got {node.value!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _ALLOWED_FUNCTIONS or node.keywords:
                raise ExpressionError(
                    f"cut expression {expr!r}: only the functions {sorted(_ALLOWED_FUNCTIONS)} may be called"
                )
    functions = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in functions:
            if node.id not in variables:
                raise ExpressionError(
                    f"cut expression {expr!r} uses unknown variable {node.id!r}; known: {sorted(variables)}",
                    unknown=node.id,
                )
            names.append(node.id)
    return sorted(set(names))


def _to_numexpr(expr: str) -> str:
    """numexpr spells logical operators as &, |, ~; map Python's and/or/not onto them."""
    tree = ast.parse(expr, mode="eval")

    class Rewrite(ast.NodeTransformer):
        def visit_BoolOp(self, node):
            self.generic_visit(node)
            op = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
            result = node.values[0]
            for value in node.values[1:]:
                result = ast.BinOp(left=result, op=op, right=value)
            return result

        def visit_UnaryOp(self, node):
            self.generic_visit(node)
            return ast.UnaryOp(op=ast.Invert(), operand=node.operand) if isinstance(node.op, ast.Not) else node

    return ast.unparse(Rewrite().visit(tree))


def evaluate_cut(expr: str, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate a checked boolean expression over columns; returns a bool array."""
    used = check_expression(expr, frozenset(columns))
    result = numexpr.evaluate(_to_numexpr(expr), local_dict={name: columns[name] for name in used}, global_dict={})
    result = np.asarray(result)
    if result.dtype != bool:
        raise ExpressionError(f"cut expression {expr!r} does not give a boolean (got {result.dtype})")
    n = len(next(iter(columns.values()))) if columns else 0
    return np.broadcast_to(result, (n,)).copy() if result.ndim == 0 else result


_FLIPPED = {ast.Lt: ">", ast.LtE: ">=", ast.Gt: "<", ast.GtE: "<="}
_KEPT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _number(node: ast.AST) -> float | None:
    """The value of a numeric constant, signed or not; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def thresholds(expr: str, variable: str) -> list[tuple[float, str]]:
    """Where ``expr`` compares ``variable`` itself with a number: (value, kept side) pairs, the side
    one of ``<``, ``<=``, ``>``, ``>=`` as read "variable <side> value" (``25 < x`` gives (25, ">")).

    Comparisons of expressions of the variable (``abs(x) < 1``) and equalities are not thresholds
    and are left out; chained comparisons (``0 < x < 1``) give one pair per link.
    """
    found = []
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
            if type(op) not in _KEPT:
                continue
            if isinstance(left, ast.Name) and left.id == variable and _number(right) is not None:
                found.append((_number(right), _KEPT[type(op)]))
            elif isinstance(right, ast.Name) and right.id == variable and _number(left) is not None:
                found.append((_number(left), _FLIPPED[type(op)]))
    return found
