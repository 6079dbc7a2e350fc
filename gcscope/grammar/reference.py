"""The reference parser: the same grammar built as pyparsing elements, one line at a time.

It is ~100x slower than the vectorised engine and never on the hot path. It explains a line:
which rule matched with which fields, or, for an unknown line, which rule came nearest and
where (column, caret) it stopped matching. The differential test runs it against the engine.

Tokens match greedily without backtracking here (pyparsing's way); the engine's regexes may
backtrack. Grammar authors write tokens that stop where the next literal begins, and the
differential test proves that the two engines agree.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import pyparsing as pp

from gcscope.grammar import dsl
from gcscope.grammar.compile import CompiledRule, GrammarSet, load_grammars


def _element(item, tokens: dict[str, dsl.Token]) -> pp.ParserElement:
    if isinstance(item, dsl.Sequence):
        parts = []
        for index, part in enumerate(item.items):
            if isinstance(part, dsl.SkipTo):
                # the compiler guarantees a literal follows; SkipTo stops before its first occurrence
                parts.append(pp.SkipTo(pp.Literal(item.items[index + 1].text)).leave_whitespace())
            else:
                parts.append(_element(part, tokens))
        element = parts[0] if len(parts) == 1 else pp.And(parts)
    elif isinstance(item, dsl.Literal):
        element = pp.Literal(item.text)
    elif isinstance(item, dsl.TokenRef):
        element = pp.Regex(tokens[item.name].pattern).set_name(item.name)
    elif isinstance(item, dsl.InlineRegex):
        element = pp.Regex(item.pattern).set_name(f"/{item.pattern}/")
    elif isinstance(item, dsl.Field):
        element = pp.Combine(_element(item.element, tokens))(item.name).set_name(item.name)
    elif isinstance(item, dsl.Optional):
        element = pp.Opt(_element(item.body, tokens))
    elif isinstance(item, dsl.Alternation):
        # The longest matching option (pp.Or): a regex would backtrack into the alternation when
        # a shorter option leaves the rest unmatched ("Heap" vs "Heap after GC …"); the longest
        # option is what that search finds in every grammar written so far (the differential
        # test keeps it so).
        element = pp.Or([_element(option, tokens) for option in item.options])
    elif isinstance(item, dsl.Repeat):
        body = _element(item.body, tokens)
        element = pp.Opt(body[1, item.high]) if item.low == 0 else body[item.low, item.high]
    else:  # pragma: no cover - the DSL reader produces nothing else
        raise TypeError(item)
    return element.leave_whitespace()


@dataclasses.dataclass(frozen=True)
class Explanation:
    matched: CompiledRule | None
    fields: dict[str, str]
    nearest: CompiledRule | None  # for an unknown line: the rule that got furthest
    column: int  # 1-based column in the message where the nearest rule stopped
    expected: str  # what the nearest rule expected there

    def render(self, message: str, offset: int = 0, line: str | None = None) -> str:
        """Human text; `offset` is where the message starts inside `line` (for the caret)."""
        if self.matched is not None:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
            return f"rule {self.matched.name} ({self.matched.source}) matched: {shown or 'no fields'}"
        shown_line = line if line is not None else message
        caret = " " * (offset + self.column - 1) + "^"
        if self.nearest is None:
            return f"no rule matches\n  {shown_line}\n  {caret}"
        return (
            f"no rule matches; nearest is {self.nearest.name} ({self.nearest.source}), "
            f"which stopped at column {offset + self.column}: expected {self.expected}\n"
            f"  {shown_line}\n  {caret}"
        )


class ReferenceParser:
    def __init__(self, grammars: GrammarSet | None = None):
        self.grammars = grammars or load_grammars()
        self._elements: dict[str, pp.ParserElement] = {}

    def element(self, rule: CompiledRule) -> pp.ParserElement:
        if rule.name not in self._elements:
            tokens = self.grammars.by_name(rule.grammar).tokens
            body = _element(rule.rule.match, tokens)
            # parse_with_tabs: pyparsing expands tabs before parsing by default; the engine sees
            # a line's tabs as they are (Parallel's "GC(4) \t[ noop task ...")
            self._elements[rule.name] = (body + pp.StringEnd()).leave_whitespace().parse_with_tabs()
        return self._elements[rule.name]

    def explain(self, message: str, rules: tuple[CompiledRule, ...] | None = None,
                tags: str | None = None) -> Explanation:
        """Match one message (a line without its decorations) against the rules, in order.

        `tags`: the line's tags decoration ("gc,phases"), for rules restricted to tag sets.
        """
        candidates = rules if rules is not None else self.grammars.rules
        best: tuple[int, CompiledRule | None, str] = (-1, None, "")
        for rule in candidates:
            if tags is not None and rule.tags is not None and tags not in rule.tags:
                continue
            try:
                result = self.element(rule).parse_string(message, parse_all=True)
            except pp.ParseBaseException as exc:
                if exc.loc > best[0]:
                    best = (exc.loc, rule, _expected(exc))
                continue
            fields = {name: result[name] for name, _ in rule.fields if name in result}
            return Explanation(rule, fields, None, 0, "")
        return Explanation(None, {}, best[1], best[0] + 1 if best[0] >= 0 else 1, best[2])


def _expected(exc: pp.ParseBaseException) -> str:
    text = str(exc.msg)
    return text.removeprefix("Expected ")


@lru_cache(maxsize=1)
def default_reference() -> ReferenceParser:
    return ReferenceParser()
