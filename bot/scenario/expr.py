"""The small, safe expression language of conditions and updates.

Authors write Python-like conditions (`trust >= 3 and not controller_near`, `max(fear - 1, 0)`).
They are parsed with `ast` and only a whitelist of node kinds is accepted; the result is compiled
into closures. Nothing is ever passed to `eval`, no attribute, subscript or call other than
`min`/`max` exists, and the size of an expression is bounded, so a scenario file cannot run code
or exhaust memory through an expression.
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

Value = int | bool
Env = Mapping[str, Value]
Evaluator = Callable[[Env], Value]

MAX_LENGTH = 500
MAX_DEPTH = 24
MAX_LITERAL = 1_000_000
_INCREMENT = re.compile(r"^[+-]\s*\d{1,7}$")
_CONSTANTS: dict[str, Value] = {"true": True, "false": False, "True": True, "False": False}
_COMPARE: dict[type[ast.cmpop], Callable[[Value, Value], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS: dict[str, Callable[..., Value]] = {"min": min, "max": max}


class ExpressionError(ValueError):
    """An expression that cannot be accepted; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    source: str
    names: frozenset[str]
    evaluate: Evaluator


def compile_expression(source: str, variables: Collection[str]) -> CompiledExpression:
    """Parse and compile `source`; every name must be one of `variables`."""
    return _compile_cached(source, frozenset(variables))


@lru_cache(maxsize=4096)
def _compile_cached(source: str, variables: frozenset[str]) -> CompiledExpression:
    """Scenarios repeat the same few conditions on many choices (`trust >= 3`); the compiled
    function is pure, so one is shared by all of them."""
    text = source.strip()
    if not text:
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():  # "3and" warns on stderr; it is rejected below anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}", exc.offset or 1) from None
    names: set[str] = set()
    evaluate = _compile(tree.body, variables, names, depth=0)
    return CompiledExpression(text, frozenset(names), evaluate)


def compile_update(
    value: Value | str, target: str, variables: Collection[str]
) -> CompiledExpression:
    """An update of `target`: a literal, an increment such as `+1`, or an expression."""
    if isinstance(value, bool | int):
        literal = value
        return CompiledExpression(repr(value), frozenset(), lambda _env: literal)
    if _INCREMENT.match(value.strip()):
        step = int(value.replace(" ", ""))
        return CompiledExpression(value, frozenset({target}), lambda env: int(env[target]) + step)
    return compile_expression(value, variables)


def _compile(node: ast.expr, variables: frozenset[str], names: set[str], depth: int) -> Evaluator:
    if depth > MAX_DEPTH:
        raise ExpressionError("the expression is nested too deeply", _col(node))
    deeper = depth + 1
    match node:
        case ast.Constant(value=bool() as flag):
            return lambda _env: flag
        case ast.Constant(value=int() as number):
            if abs(number) > MAX_LITERAL:
                raise ExpressionError(f"numbers are limited to ±{MAX_LITERAL}", _col(node))
            return lambda _env: number
        case ast.Name(id=name) if name in _CONSTANTS:
            constant = _CONSTANTS[name]
            return lambda _env: constant
        case ast.Name(id=name):
            if name not in variables:
                known = ", ".join(sorted(variables)) or "none declared"
                raise ExpressionError(f"unknown variable '{name}' (known: {known})", _col(node))
            names.add(name)
            return lambda env: env[name]
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            inner = _compile(operand, variables, names, deeper)
            return lambda env: not inner(env)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            inner = _compile(operand, variables, names, deeper)
            return lambda env: -int(inner(env))
        case ast.BoolOp(op=op, values=values):
            parts = [_compile(v, variables, names, deeper) for v in values]
            if isinstance(op, ast.And):
                return lambda env: all(p(env) for p in parts)
            return lambda env: any(p(env) for p in parts)
        case ast.BinOp(left=left, op=ast.Add() | ast.Sub() as op, right=right):
            lhs = _compile(left, variables, names, deeper)
            rhs = _compile(right, variables, names, deeper)
            if isinstance(op, ast.Add):
                return lambda env: int(lhs(env)) + int(rhs(env))
            return lambda env: int(lhs(env)) - int(rhs(env))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            return _compile_compare(left, ops, comparators, variables, names, deeper)
        case ast.Call(func=ast.Name(id=fname), args=args, keywords=[]) if fname in _FUNCTIONS:
            if len(args) < 2:
                raise ExpressionError(f"{fname}() needs at least two values", _col(node))
            fn = _FUNCTIONS[fname]
            parts = [_compile(a, variables, names, deeper) for a in args]
            return lambda env: fn(*(int(p(env)) for p in parts))
    raise ExpressionError(_describe_unsupported(node), _col(node))


def _compile_compare(
    left: ast.expr,
    ops: list[ast.cmpop],
    comparators: list[ast.expr],
    variables: frozenset[str],
    names: set[str],
    depth: int,
) -> Evaluator:
    checks = []
    for op in ops:
        fn = _COMPARE.get(type(op))
        if fn is None:
            raise ExpressionError("only ==, !=, <, <=, >, >= compare values", _col(left))
        checks.append(fn)
    operands = [_compile(e, variables, names, depth) for e in [left, *comparators]]

    def compare(env: Env) -> bool:
        values = [o(env) for o in operands]
        return all(check(a, b) for check, a, b in zip(checks, values, values[1:], strict=False))

    return compare


def _describe_unsupported(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return f"{node.value!r} is not allowed here: use whole numbers, true or false"
    if isinstance(node, ast.Call):
        return "only min(...) and max(...) may be called"
    if isinstance(node, ast.BinOp):
        return "only + and - are allowed between numbers"
    return "this kind of expression is not allowed: use variables, numbers, comparisons, and/or/not"


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0)) + 1
