"""The parse tree turned into closures once, and the ``Template`` that runs them per recipient."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from clarion.templates.handlebars.checker import check_partials
from clarion.templates.handlebars.helpers import CONDITIONS, HELPERS, Helper
from clarion.templates.handlebars.lexer import Where
from clarion.templates.handlebars.limits import EACH_LIMIT, MAX_OUTPUT, RenderError
from clarion.templates.handlebars.nodes import (
    Block,
    Expr,
    HelperCall,
    Inline,
    Literal,
    Node,
    Output,
    Partial,
    Path,
)
from clarion.templates.handlebars.parser import parse
from clarion.templates.handlebars.runtime import (
    Evaluate,
    Render,
    Run,
    Scope,
    as_keys,
    child,
    dig,
)
from clarion.templates.handlebars.values import Call, blank, to_text, truthy


def _getter(path: Path) -> Evaluate:
    keys = as_keys(path.parts)
    if path.data:
        name, rest = (keys[0][0], keys[1:]) if keys else ("", ())
        if name == "root":
            return lambda scope: dig(scope.run.root, rest)

        def data(scope: Scope) -> Any:
            found = scope.data.get(name) if scope.data else None
            return dig(found, rest) if rest else found

        return data
    if path.depth:
        levels = path.depth

        def above(scope: Scope) -> Any:
            for _ in range(levels):
                scope = scope.parent or scope
            return dig(scope.context, keys)

        return above
    if path.scoped or not keys:
        return lambda scope: dig(scope.context, keys)
    head, rest = keys[0], keys[1:]

    def walk(scope: Scope | None) -> Any:
        while scope is not None:
            found = child(scope.context, head)
            if found is not None:
                return dig(found, rest) if rest else found
            scope = scope.parent
        return None

    return walk


def _wordlike(path: Path) -> bool:
    """``apple`` or ``America/Los_Angeles``, but not ``Demographic.Timezone`` or ``@index``."""
    plain = not (path.data or path.depth or path.scoped or path.bracketed)
    return plain and "." not in path.text


def _word(path: Path, evaluate: Evaluate) -> Evaluate:
    """A bare word where a helper wants a word stands for itself unless it names a value."""
    text = path.text

    def word(scope: Scope) -> Any:
        found = evaluate(scope)
        return text if found is None else found

    return word


def _escape(text: str) -> str:
    if (
        "&" in text
        or "<" in text
        or ">" in text
        or '"' in text
        or "'" in text
        or "`" in text
        or "=" in text
    ):
        return text.translate(_ESCAPES)
    return text


_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#x60;",
        "=": "&#x3D;",
    }
)


class _Compiler:
    """Turns the parse tree into nested closures, so rendering does no parsing or dispatch."""

    def __init__(self, where: Where, partials: dict[str, Render]) -> None:
        self.where = where
        self.partials = partials

    def fail(self, error: RenderError, at: int) -> RenderError:
        if error.line is not None:
            return error
        return RenderError(error.reason, *self.where(at))

    def nodes(self, nodes: Sequence[Node]) -> Render:
        pieces: list[str] = []
        dynamic: list[tuple[int, Render]] = []
        for node in nodes:
            if isinstance(node, Inline):
                continue
            if isinstance(node, str):
                if pieces and not (dynamic and dynamic[-1][0] == len(pieces) - 1):
                    pieces[-1] += node
                else:
                    pieces.append(node)
            else:
                dynamic.append((len(pieces), self.node(node)))
                pieces.append("")
        if not dynamic:
            constant = "".join(pieces)
            return lambda scope: constant
        if len(pieces) == 1:
            return dynamic[0][1]
        template = tuple(pieces)
        slots = tuple(dynamic)

        def render(scope: Scope) -> str:
            out = list(template)
            for index, part in slots:
                out[index] = part(scope)
            return "".join(out)

        return render

    def node(self, node: Output | Block | Partial) -> Render:
        if isinstance(node, Output):
            return self.output(node)
        if isinstance(node, Partial):
            return self.partial(node)
        return self.block(node)

    def output(self, node: Output) -> Render:
        evaluate = self.expr(node.expr)
        escaped = node.escaped

        def output(scope: Scope) -> str:
            value = evaluate(scope)
            text = value if type(value) is str else to_text(value)
            return _escape(text) if escaped and scope.run.escape else text

        return output

    def expr(self, expr: Expr) -> Evaluate:
        if isinstance(expr, Literal):
            value = expr.value
            return lambda scope: value
        if isinstance(expr, Path):
            return _getter(expr)
        if expr.name in CONDITIONS:
            return self.condition(expr)
        return self.helper(expr, HELPERS[expr.name])

    def operands(
        self, call: HelperCall, words: frozenset[int | str] = frozenset()
    ) -> tuple[list[Evaluate], list[tuple[str, Evaluate]]]:
        params = [self.operand(param, index in words) for index, param in enumerate(call.params)]
        options = [(key, self.operand(value, key in words)) for key, value in call.options]
        return params, options

    def operand(self, expr: Expr, word: bool) -> Evaluate:
        evaluate = self.expr(expr)
        if word and isinstance(expr, Path) and _wordlike(expr):
            return _word(expr, evaluate)
        return evaluate

    def helper(self, call: HelperCall, helper: Helper) -> Evaluate:
        params, options = self.operands(call, helper.words)
        fn, blank_if_missing, at = helper.fn, helper.blank_if_missing, call.at

        def evaluate(scope: Scope) -> Any:
            run = scope.run
            args = [param(scope) for param in params]
            if blank_if_missing and blank(args[0]):
                return ""
            named = {key: value(scope) for key, value in options}
            try:
                run.step()
                result = fn(Call(args, named, run.clock))
                if type(result) is str:
                    run.grow(len(result))
            except RenderError as error:
                raise self.fail(error, at) from None
            return result

        return evaluate

    def condition(self, call: HelperCall) -> Evaluate:
        test = CONDITIONS[call.name].test
        params, options = self.operands(call)
        yes = next((value for key, value in options if key == "yes"), None)
        no = next((value for key, value in options if key == "no"), None)

        def evaluate(scope: Scope) -> Any:
            scope.run.step()
            if test([param(scope) for param in params]):
                return yes(scope) if yes else True
            return no(scope) if no else False

        return evaluate

    def block(self, node: Block) -> Render:
        program = self.nodes(node.program)
        inverse = self.nodes(node.inverse) if node.inverse else None
        params, _ = self.operands(node.call)
        if node.call.name == "each":
            return self.each(params[0], program, inverse, node.call.at)
        if node.call.name == "with":
            return _with(params[0], program, inverse)
        test = CONDITIONS[node.call.name].test

        def conditional(scope: Scope) -> str:
            scope.run.step()
            if test([param(scope) for param in params]):
                return program(scope)
            return inverse(scope) if inverse else ""

        return conditional

    def each(self, evaluate: Evaluate, program: Render, inverse: Render | None, at: int) -> Render:
        def each(scope: Scope) -> str:
            run = scope.run
            items = list(islice(_items(evaluate(scope)), EACH_LIMIT))
            if not items:
                return inverse(scope) if inverse else ""
            last = len(items) - 1
            mark, total, out = run.size, 0, []
            try:
                for index, (key, item) in enumerate(items):
                    run.step()
                    data = {"index": index, "key": key, "first": index == 0, "last": index == last}
                    piece = program(Scope(item, scope, data, run))
                    total += len(piece)
                    run.size = mark
                    run.grow(total)
                    out.append(piece)
            except RenderError as error:
                raise self.fail(error, at) from None
            return "".join(out)

        return each

    def partial(self, node: Partial) -> Render:
        partials, name, at = self.partials, node.name, node.at
        context = self.expr(node.context) if node.context is not None else None

        def partial(scope: Scope) -> str:
            run = scope.run
            try:
                run.step()
                inner = scope if context is None else Scope(context(scope), scope, scope.data, run)
                mark = run.size
                text = partials[name](inner)
                run.size = mark
                run.grow(len(text))
            except RenderError as error:
                raise self.fail(error, at) from None
            return text

        return partial


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return iter(value.items())
    if isinstance(value, list | tuple):
        return enumerate(value)
    return iter([(0, value)] if truthy(value) else [])


def _with(evaluate: Evaluate, program: Render, inverse: Render | None) -> Render:
    def with_(scope: Scope) -> str:
        value = evaluate(scope)
        if truthy(value):
            return program(Scope(value, scope, scope.data, scope.run))
        return inverse(scope) if inverse else ""

    return with_


class Template:
    """A compiled template: immutable, safe to share between threads, rendered many times."""

    __slots__ = ("_render",)

    def __init__(self, render: Render) -> None:
        self._render = render

    def render(
        self, values: Mapping[str, Any], *, escape: bool = True, now: datetime | None = None
    ) -> str:
        """Fill the template from one recipient's lookup data.

        ``escape`` HTML-escapes ``{{...}}`` output (e-mail HTML parts); plain-text, SMS, push and
        voice parts pass ``escape=False``. ``now`` is the moment ``{{now}}`` prints and
        ``dateFormat`` reads two-digit years against; the current time when not given.
        """
        run = Run(escape, values, now)
        text = self._render(Scope(values, None, None, run))
        if len(text) > MAX_OUTPUT:
            raise RenderError(f"the message is longer than {MAX_OUTPUT} characters")
        return text


def compile_template(source: str) -> Template:
    """Parse and check a template once; raises ``TemplateError`` with the line and column."""
    where = Where(source)
    parsed = parse(source, where)
    check_partials(parsed, where)
    partials: dict[str, Render] = {}
    compiler = _Compiler(where, partials)
    for name, inline in parsed.inlines.items():
        partials[name] = compiler.nodes(inline.body)
    return Template(compiler.nodes(parsed.nodes))
