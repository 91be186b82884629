"""Compile-time checks: helpers exist and get what they take, partials exist and do not recurse,
and nothing nests deeper than ``MAX_DEPTH``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clarion.templates.handlebars.helpers import CONDITIONS, HELPERS
from clarion.templates.handlebars.lexer import Where
from clarion.templates.handlebars.limits import MAX_DEPTH, RenderError
from clarion.templates.handlebars.nodes import (
    Block,
    Expr,
    HelperCall,
    Literal,
    Node,
    Output,
    Parsed,
    Partial,
    Path,
)
from clarion.templates.handlebars.values import DYNAMIC

_CONTEXT_BLOCKS = frozenset({"each", "with"})


def check_output(expr: Expr, where: Where) -> None:
    if isinstance(expr, HelperCall):
        if expr.name in _CONTEXT_BLOCKS:
            raise where.error(
                f"{expr.name} is a block helper: use {{{{#{expr.name} ...}}}}", expr.at
            )
        _check_call(expr, where)


def check_block(call: HelperCall, where: Where) -> None:
    if call.name in _CONTEXT_BLOCKS:
        if len(call.params) != 1 or call.options:
            raise where.error(f"{call.name} takes one value and no options", call.at)
        _check_operands(call, where)
        return
    if call.name in HELPERS:
        raise where.error(
            f"{call.name} is not a block helper; use {{{{{call.name} ...}}}}", call.at
        )
    if call.name not in CONDITIONS:
        raise where.error(f"unknown block helper {call.name!r}", call.at)
    if call.options:
        raise where.error(f"{call.name} takes no options when used as a block", call.at)
    _check_call(call, where)


def _check_call(call: HelperCall, where: Where) -> None:
    helper = HELPERS.get(call.name)
    rule = helper or CONDITIONS.get(call.name)
    if rule is None:
        raise where.error(f"unknown helper {call.name!r}", call.at)
    count = len(call.params)
    if count < rule.min_args or (rule.max_args is not None and count > rule.max_args):
        expected = _arity(rule.min_args, rule.max_args)
        raise where.error(f"{call.name} takes {expected}, got {count}", call.at)
    allowed = helper.options if helper else frozenset({"yes", "no"})
    for key, _ in call.options:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise where.error(f"{call.name} has no option {key!r} (options: {known})", call.at)
    if helper and helper.check:
        params = [_literal(param) for param in call.params]
        try:
            helper.check(params, {key: _literal(value) for key, value in call.options})
        except RenderError as error:
            raise where.error(error.reason, call.at) from None
    _check_operands(call, where)


def _check_operands(call: HelperCall, where: Where) -> None:
    for operand in [*call.params, *(value for _, value in call.options)]:
        if isinstance(operand, HelperCall):
            if operand.name in _CONTEXT_BLOCKS:
                raise where.error(f"{operand.name} cannot be a sub-expression", operand.at)
            _check_call(operand, where)


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _literal(expr: Expr) -> Any:
    return expr.value if isinstance(expr, Literal) else DYNAMIC


def check_partials(parsed: Parsed, where: Where) -> None:
    """Every partial exists, none includes itself, and nesting stays within MAX_DEPTH."""
    depths: dict[str, int] = {}

    def depth(nodes: Sequence[Node], level: int, calling: tuple[str, ...]) -> int:
        deepest = 0
        for node in nodes:
            if isinstance(node, Block):
                inner = max(depth(node.program, level + 1, calling), _expr_depth(node.call))
                if node.inverse is not None:
                    inner = max(inner, depth(node.inverse, level + 1, calling))
                deepest = max(deepest, 1 + inner)
            elif isinstance(node, Partial):
                deepest = max(deepest, 1 + partial(node, level + 1, calling))
            elif isinstance(node, Output):
                deepest = max(deepest, _expr_depth(node.expr))
            if level + deepest > MAX_DEPTH:
                raise where.error(f"the template nests deeper than {MAX_DEPTH} levels", _at(node))
        return deepest

    def partial(node: Partial, level: int, calling: tuple[str, ...]) -> int:
        inline = parsed.inlines.get(node.name)
        if inline is None:
            raise where.error(f"no inline partial named {node.name!r}", node.at)
        if node.name in calling:
            raise where.error(f"the partial {node.name!r} includes itself", node.at)
        if node.name not in depths:
            depths[node.name] = depth(inline.body, level, (*calling, node.name))
        return depths[node.name]

    depth(parsed.nodes, 0, ())
    for inline in parsed.inlines.values():
        depth(inline.body, 0, (inline.name,))


def _at(node: Node) -> int:
    if isinstance(node, Block):
        return node.call.at
    if isinstance(node, Output):
        return node.expr.at if isinstance(node.expr, Path | HelperCall) else 0
    return 0 if isinstance(node, str) else node.at


def _expr_depth(expr: Expr) -> int:
    if not isinstance(expr, HelperCall):
        return 0
    operands = [*expr.params, *(value for _, value in expr.options)]
    return 1 + max((_expr_depth(operand) for operand in operands), default=0)
