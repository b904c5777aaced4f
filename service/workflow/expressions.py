"""An allow-list evaluator for BPMN gateway conditions, replacing SpiffWorkflow's eval/exec.

SpiffWorkflow evaluates conditions with Python eval and full builtins, so a diagram could run
`__import__("os").system(...)`. Here a condition is parsed to an AST, every node is checked
against a small allow-list (names, constants, comparisons, boolean logic, `in`, arithmetic) and
then interpreted by walking the tree: no eval, no attribute access, no calls, no subscripts.
Scripts are refused outright: the review processes need none.

Arithmetic works on numbers only (no string or list repetition, no `+` on strings), numbers stay
within MAX_NUMBER, and a division by a constant zero is refused when the condition is parsed.
Any failure while evaluating (a type mismatch, a division by zero the data produced) is an
ExpressionError, never a bare Python exception. ExpressionError carries an English message
(str(exc), for logs) and a Chinese one (`exc.zh`, for people).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_EXPRESSION_LENGTH = 500
MAX_NUMBER = 10**15
"""Largest magnitude of a number in a condition (constant or result): bounds time and memory."""

_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}


class ExpressionError(ValueError):
    """The expression is not in the allowed language, or failed to evaluate."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh or message


def parse_expression(source: str) -> ast.Expression:
    """Parse and check a condition; raises ExpressionError naming the first forbidden construct."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty expression", "条件为空")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters",
                              f"条件超过 {MAX_EXPRESSION_LENGTH} 个字符")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", f"语法错误：{exc.msg}") from None
    _check(tree.body)
    return tree


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionError(f"constant of type {type(node.value).__name__} is not allowed",
                                  f"不允许 {type(node.value).__name__} 类型的常量")
        if _is_number(node.value):
            _bounded(node.value)
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ExpressionError(f"name {node.id!r} is not allowed (starts with '_')",
                                  f"不允许以下划线开头的名称 {node.id}")
        if not isinstance(node.ctx, ast.Load):
            raise ExpressionError("assignment is not allowed", "条件中不允许赋值")
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left)
        _check(node.right)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and _constant_zero(node.right):
            raise ExpressionError("division by a constant zero", "除数为常量 0")
        return
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        _check(node.left)
        for comparator in node.comparators:
            _check(comparator)
        return
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            _check(element)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in a condition",
                          f"条件中不允许使用 {type(node).__name__}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(value: Any) -> Any:
    if _is_number(value) and not abs(value) <= MAX_NUMBER:  # also refuses inf and nan
        raise ExpressionError(f"number out of range (|x| <= {MAX_NUMBER})", f"数值超出范围（绝对值不超过 {MAX_NUMBER}）")
    return value


def _constant_zero(node: ast.AST) -> bool:
    """True when a subtree without names evaluates to zero (e.g. `0`, `1 - 1`)."""
    if any(isinstance(n, ast.Name) for n in ast.walk(node)):
        return False
    try:
        value = _eval(node, {})
    except (ExpressionError, ArithmeticError, TypeError, ValueError):
        return False
    return _is_number(value) and value == 0


def evaluate(source: str | ast.Expression, variables: dict[str, Any]) -> Any:
    """Evaluate a checked condition against task data; any failure is an ExpressionError."""
    tree = parse_expression(source) if isinstance(source, str) else source
    try:
        return _eval(tree.body, variables)
    except ExpressionError:
        raise
    except ZeroDivisionError:
        raise ExpressionError("division by zero", "除数为 0") from None
    except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
        raise ExpressionError(f"evaluation failed: {type(exc).__name__}: {exc}",
                              f"条件无法计算（{type(exc).__name__}）") from None


def _arith(op: ast.operator, left: Any, right: Any) -> Any:
    if not (_is_number(left) and _is_number(right)):
        raise ExpressionError(
            f"arithmetic needs numbers, got {type(left).__name__} and {type(right).__name__}",
            f"算术运算只能用于数字（得到 {type(left).__name__} 和 {type(right).__name__}）")
    return _bounded(_BINARY[type(op)](left, right))


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise ExpressionError(f"name {node.id!r} is not defined", f"变量 {node.id} 未定义")
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Any = True
            for value in node.values:
                result = _eval(value, env)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = _eval(value, env)
            if result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env)
        if not isinstance(node.op, ast.Not) and not _is_number(operand):
            raise ExpressionError(f"unary {type(node.op).__name__} needs a number",
                                  f"正负号只能用于数字（得到 {type(operand).__name__}）")
        return _UNARY[type(node.op)](operand)
    if isinstance(node, ast.BinOp):
        return _arith(node.op, _eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Tuple):
        return tuple(_eval(e, env) for e in node.elts)
    if isinstance(node, ast.List):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.Set):
        return {_eval(e, env) for e in node.elts}
    raise ExpressionError(f"{type(node).__name__} is not allowed in a condition",
                          f"条件中不允许使用 {type(node).__name__}")


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff's hook for evaluation; parsed trees are cached because the same few conditions repeat."""

    def __init__(self) -> None:
        super().__init__(environment_globals={})
        self._cache: dict[str, ast.Expression] = {}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        tree = self._cache.get(expression)
        if tree is None:
            tree = parse_expression(expression)
            self._cache[expression] = tree
        variables = dict(context)
        if external_context:
            variables.update(external_context)
        return evaluate(tree, variables)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        raise ExpressionError("scripts are not allowed in gradflow processes", "流程中不允许脚本")


class RestrictedScriptEngine(PythonScriptEngine):
    """The only script engine gradflow gives a workflow; set again after every deserialize."""

    def __init__(self) -> None:
        super().__init__(environment=_RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        parse_expression(expression)


RESTRICTED_ENGINE = RestrictedScriptEngine()
