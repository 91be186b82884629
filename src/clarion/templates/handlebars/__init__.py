"""Pinpoint message templates: Handlebars parsed once, rendered per recipient by a sandboxed walker.

``compile_template`` turns template text into a ``Template`` (or a ``TemplateError`` naming the
line and column); ``Template.render`` fills it from one recipient's lookup data, which
``recipient_values`` builds from the endpoint, the template's DefaultSubstitutions and the
message's Substitutions.

The language is the part of Handlebars that Pinpoint documents ("Using message template helpers"):
``{{path}}`` (HTML-escaped when ``escape`` is set: the e-mail HTML part), ``{{{path}}}`` and
``{{& path}}`` (never escaped), helpers with arguments, ``key=value`` options and ``(sub
expressions)``, the blocks ``#if``/``#unless``/``#each``/``#with`` and every conditional helper with
``{{else}}`` and ``{{else if ...}}`` chains, ``@index``/``@key``/``@first``/``@last``/``@root``,
``../`` and ``this``, comments, ``\\{{`` for literal braces, ``~`` whitespace control and standalone
block lines, and inline partials (``{{#* inline "name"}}`` / ``{{> name}}``). Helpers are listed in
``helpers.py``. A name not found in the current context is looked up in the enclosing ones, as
Pinpoint's Java Handlebars engine does, so ``{{User.UserId}}`` works inside ``{{#each}}``.

``{{#each}}`` visits at most 15 items (the guide's "maximum list size is 15 items"), and a single
value, not a list, once. The built-in ``lookup`` and ``log`` (which prints nothing) are there too.

Sandbox: templates are data. Rendering walks closures built from the parse tree; lookups only
index mappings and lists; nothing evaluates Python, reads attributes, files or the network. A
render stops with ``RenderError`` after ``MAX_STEPS`` loop turns, partial calls and helper calls,
or once the message passes ``MAX_OUTPUT`` characters; templates nest at most ``MAX_DEPTH`` levels
(blocks, partial calls and sub-expressions together) and partials cannot include themselves.

Layout: ``lexer`` splits the text into tags, ``parser`` reads them into the ``nodes`` tree and has
``checker`` judge each helper call on the way, ``compiler`` turns the tree into closures over
``runtime``'s scopes and budget. ``helpers``, ``date_helpers`` and ``values`` are Pinpoint's
helpers, ``dates`` Java's date formats, ``recipients`` the lookup data, ``limits`` the bounds.
"""

from clarion.templates.handlebars.compiler import Template, compile_template
from clarion.templates.handlebars.limits import MAX_OUTPUT, RenderError, TemplateError
from clarion.templates.handlebars.recipients import parse_defaults, recipient_values

__all__ = [
    "MAX_OUTPUT",
    "RenderError",
    "Template",
    "TemplateError",
    "compile_template",
    "parse_defaults",
    "recipient_values",
]
