"""Compiles grammar rules to regular expressions for the vectorised engine.

Every rule becomes a regex over the message (the line after its decorations) with one named
group per field, plus the literal anchor the engine uses to prefilter lines cheaply
(`str.contains(anchor, literal=True)` costs ~18 ms per million lines; a regex extract 5-15x more).
The regex dialect is the common subset of Rust's `regex` crate (polars) and Python's `re`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import re
from functools import lru_cache
from pathlib import Path

from gcscope.errors import GrammarError
from gcscope.grammar import dsl

GRAMMAR_DIR = Path(__file__).resolve().parents[2] / "grammars"


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledRule:
    name: str
    grammar: str  # the grammar file (collector family) it belongs to
    yields: str
    body_regex: str  # message regex with named groups, unanchored
    fields: tuple[tuple[str, str], ...]  # (field name, conversion) in group order
    anchor: str | None  # a literal every matching message contains: the engine's prefilter
    also: tuple[str, ...]  # further literals every match contains, checked on the kept rows
    # Literals one of which every match contains: (anchor,) when there is one, else the
    # alternatives of a mandatory alternation ("NUMA Support" | "Compressed Oops" | …); empty
    # when no literal can tell (the engine then tries the rule on every line still unclaimed).
    anchor_set: tuple[str, ...]
    leads: frozenset[str]  # how its messages can start (see `leads`)
    tags: tuple[str, ...] | None
    level: str | None
    constants: tuple[tuple[str, str], ...]
    source: str
    rule: dsl.Rule  # the parsed rule, for the reference parser


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: plans are cached per set
class CompiledGrammar:
    name: str
    collectors: tuple[str, ...]
    detect: tuple[str, ...]
    rules: tuple[CompiledRule, ...]
    kinds: dict[str, tuple[tuple[str, str], ...]]  # field -> ((prefix, value), ...)
    tokens: dict[str, dsl.Token]


class _Compiler:
    def __init__(self, tokens: dict[str, dsl.Token], where: str):
        self.tokens = tokens
        self.where = where
        self.fields: list[tuple[str, str]] = []

    def sequence(self, seq: dsl.Sequence) -> str:
        for i, item in enumerate(seq.items):
            if isinstance(item, dsl.SkipTo) and not (
                i + 1 < len(seq.items) and isinstance(seq.items[i + 1], dsl.Literal)
            ):
                raise GrammarError("`...` must be followed by a literal", file=self.where)
        return "".join(self.item(item) for item in seq.items)

    def item(self, item) -> str:
        if isinstance(item, dsl.Literal):
            return re.escape(item.text).replace("\\ ", " ")
        if isinstance(item, dsl.TokenRef):
            return f"(?:{_ascii(self.token(item.name).pattern)})"
        if isinstance(item, dsl.SkipTo):
            return ".*?"
        if isinstance(item, dsl.InlineRegex):
            _check_regex(item.pattern, self.where)
            return f"(?:{_ascii(item.pattern)})"
        if isinstance(item, dsl.Field):
            if any(name == item.name for name, _ in self.fields):
                raise GrammarError(f"field {item.name!r} captured twice in one rule", file=self.where)
            conversion = "str"
            if isinstance(item.element, dsl.TokenRef):
                conversion = self.token(item.element.name).conversion
            self.fields.append((item.name, conversion))
            inner = self.item(item.element)
            return f"(?P<{item.name}>{inner})"
        if isinstance(item, dsl.Optional):
            return f"(?:{self.sequence(item.body)})?"
        if isinstance(item, dsl.Alternation):
            return "(?:" + "|".join(self.sequence(option) for option in item.options) + ")"
        if isinstance(item, dsl.Repeat):
            return f"(?:{self.item(item.body)}){{{item.low},{item.high}}}"
        raise GrammarError(f"cannot compile {item!r}", file=self.where)

    def token(self, name: str) -> dsl.Token:
        try:
            return self.tokens[name]
        except KeyError:
            raise GrammarError(f"unknown token {name!r}", file=self.where) from None


def _ascii(pattern: str) -> str:
    """HotSpot writes ASCII: ASCII classes keep the regex automata small (\\d is Unicode-wide)."""
    return (pattern.replace(r"\d", "[0-9]").replace(r"\S", r"[^ \t]")
            .replace(r"\w", "[A-Za-z0-9_]").replace(r"\s", r"[ \t]"))


def _check_regex(pattern: str, where: str) -> None:
    # Groups inside token patterns would shift field numbering and are not portable: refuse them.
    bare = re.sub(r"\[(?:\\.|[^\]])*\]", "", re.sub(r"\\.", "", pattern))
    if re.search(r"\((?!\?:)", bare):
        raise GrammarError(f"regex {pattern!r} may only use non-capturing groups (?:...)", file=where)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise GrammarError(f"bad regex {pattern!r}: {exc}", file=where) from None


def _edge_literal(item, last: bool) -> str:
    """The literal text every match of `item` starts with (or, `last`, ends with); "" if none."""
    if isinstance(item, dsl.Literal):
        return item.text
    if isinstance(item, dsl.Field):
        return _edge_literal(item.element, last)
    if isinstance(item, dsl.Sequence):
        return _edge_literal(item.items[-1 if last else 0], last) if item.items else ""
    if isinstance(item, dsl.Alternation):
        edges = [_edge_literal(option, last) for option in item.options]
        common = edges[0]
        for edge in edges[1:]:
            while not (edge.endswith(common) if last else edge.startswith(common)):
                common = common[1:] if last else common[:-1]
        return common
    return ""


def mandatory_literals(seq: dsl.Sequence) -> list[str]:
    """Literal runs every match must contain, in order (optional parts and tokens break runs).

    An alternation (or a field capturing one) contributes the prefix all its options share:
    `") " name:("Pause Young" | "Pause Full")` yields the run `") Pause "`.
    """
    runs, current = [], ""
    for item in seq.items:
        if isinstance(item, dsl.Literal):
            current += item.text
            continue
        if isinstance(item, dsl.Field) and isinstance(item.element, dsl.Literal):
            current += item.element.text
            continue
        grouped = isinstance(item, (dsl.Field, dsl.Alternation))
        current += _edge_literal(item, last=False) if grouped else ""
        if current:
            runs.append(current)
        # "Concurrent Mark Cycle" | "Concurrent Cycle": the shared " Cycle" starts the next run
        current = _edge_literal(item, last=True) if grouped else ""
    if current:
        runs.append(current)
    return runs


def _anchors(rule: dsl.Rule) -> tuple[str | None, tuple[str, ...]]:
    """The best literal anchor, and up to two more literals that narrow the candidates."""
    literals = mandatory_literals(rule.match)
    # "GC(" starts most lines of a log: it filters nothing. Prefer any other literal.
    useful = sorted(
        {lit for lit in literals if lit.strip() not in ("GC(", ")", "(", "")},
        key=lambda lit: (-len(lit.strip()), lit),
    )
    useful = [lit for lit in useful if len(lit.strip()) >= 2]
    if not useful or len(useful[0].strip()) < 3:
        return None, ()
    return useful[0], tuple(useful[1:4])


def _literal_set(item) -> frozenset[str] | None:
    """Literals one of which every match of `item` contains (None: no such set)."""
    if isinstance(item, dsl.Literal):
        return frozenset({item.text}) if _strong(item.text) else None
    if isinstance(item, dsl.Field):
        return _literal_set(item.element)
    if isinstance(item, dsl.Repeat) and item.low >= 1:
        return _literal_set(item.body)
    if isinstance(item, dsl.Alternation):
        sets = [_literal_set(option) for option in item.options]
        return None if any(s is None for s in sets) else frozenset().union(*sets)
    if isinstance(item, dsl.Sequence):
        candidates = [frozenset({run}) for run in mandatory_literals(item) if _strong(run)]
        candidates += [s for s in map(_literal_set, item.items) if s is not None]
        return min(candidates, key=_set_cost, default=None)
    return None  # tokens, inline regexes, optional parts, `...`


def _strong(literal: str) -> bool:
    # "GC(" starts most lines of a log: it filters nothing; short literals filter little.
    return literal.strip() not in ("GC(", ")", "(", "") and len(literal.strip()) >= 3


def _set_cost(literals: frozenset[str]) -> tuple[int, int]:
    return len(literals), -min(len(literal.strip()) for literal in literals)


def anchor_set(rule: dsl.Rule) -> tuple[str, ...]:
    anchor, _ = _anchors(rule)
    if anchor:
        return (anchor,)
    found = _literal_set(rule.match)
    return tuple(sorted(found)) if found else ()


# Leading text of a rule's matches, for telling rules apart without running them: literal
# characters, DIGITS for an INT token (one or more digits), ANY where nothing more is known.
DIGITS, ANY = "\x00", "\x01"
_LEAD_CHARS = 48  # enough to tell "GC(12) Pause Young" from "GC(12) Pause Remark"
_LEAD_OPTIONS = 64


def leads(rule: dsl.Rule) -> frozenset[str]:
    """The possible starts of the rule's message, at most _LEAD_CHARS long (ANY beyond)."""
    return frozenset(_leads(tuple(rule.match.items)))


def _leads(items: tuple, budget: int = _LEAD_CHARS) -> set[str]:
    if not items:
        return {""}  # the message ends here
    if budget <= 0:
        return {ANY}
    head, rest = items[0], items[1:]
    if isinstance(head, dsl.Field):
        return _leads((head.element, *rest), budget)
    if isinstance(head, dsl.Sequence):
        return _leads((*head.items, *rest), budget)
    if isinstance(head, dsl.Literal):
        return {head.text + tail for tail in _leads(rest, budget - len(head.text))}
    if isinstance(head, dsl.TokenRef) and head.name == "INT":
        return {DIGITS + tail for tail in _leads(rest, budget - 1)}
    if isinstance(head, (dsl.Alternation, dsl.Optional)):
        options = head.options if isinstance(head, dsl.Alternation) else (head.body, dsl.Sequence(()))
        found: set[str] = set()
        for option in options:
            found |= _leads((*option.items, *rest), budget)
            if len(found) > _LEAD_OPTIONS:
                return {ANY}
        return found
    return {ANY}


def _lead_disjoint(a: str, b: str) -> bool:
    """True when no message can start as both `a` and `b`."""
    # the decorations end with an optional space: leading spaces prove nothing
    a, b = a.lstrip(" "), b.lstrip(" ")
    i = 0
    while True:
        if i == len(a) or i == len(b):
            return (i == len(a)) != (i == len(b)) and ANY not in (a[i:i + 1], b[i:i + 1])
        x, y = a[i], b[i]
        if ANY in (x, y):
            return False
        if x == DIGITS or y == DIGITS:
            other = y if x == DIGITS else x
            if other == DIGITS:
                i += 1
                continue
            return not other.isdigit()
        if x != y:
            return True
        i += 1


def rules_disjoint(first: CompiledRule, second: CompiledRule, has_tags: bool) -> bool:
    """True when no line can match both rules (a sound test: False proves nothing)."""
    if has_tags and first.tags is not None and second.tags is not None and not set(first.tags) & set(second.tags):
        return True
    return all(_lead_disjoint(a, b) for a in first.leads for b in second.leads)


def compile_grammar(grammar: dsl.GrammarFile, shared_tokens: dict[str, dsl.Token]) -> CompiledGrammar:
    tokens = {**shared_tokens, **grammar.tokens}
    for token in tokens.values():
        _check_regex(token.pattern, token.source)
    rules = []
    for rule in grammar.rules:
        compiler = _Compiler(tokens, rule.source)
        body = compiler.sequence(rule.match)
        rules.append(
            CompiledRule(
                name=rule.name,
                grammar=grammar.name,
                yields=rule.yields,
                body_regex=body,
                fields=tuple(compiler.fields),
                anchor=_anchors(rule)[0],
                also=_anchors(rule)[1],
                anchor_set=anchor_set(rule),
                leads=leads(rule),
                tags=rule.tags,
                level=rule.level,
                constants=rule.constants,
                source=rule.source,
                rule=rule,
            )
        )
    kinds = {table.field: table.entries for table in grammar.kinds}
    return CompiledGrammar(grammar.name, grammar.collectors, grammar.detect, tuple(rules), kinds, tokens)


@dataclasses.dataclass(frozen=True, eq=False)
class GrammarSet:
    """Every grammar file, compiled. `common` applies to every log; the others per collector."""

    grammars: tuple[CompiledGrammar, ...]

    def by_name(self, name: str) -> CompiledGrammar:
        for grammar in self.grammars:
            if grammar.name == name:
                return grammar
        raise KeyError(name)

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        return tuple(rule for grammar in self.grammars for rule in grammar.rules)

    def rule(self, name: str) -> CompiledRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def _cache_path(files: list[Path]) -> Path:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())  # a compiler change invalidates the cache too
    digest.update(Path(dsl.__file__).read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gcscope" / f"grammars-{digest.hexdigest()[:20]}.pickle"


@lru_cache(maxsize=4)
def load_grammars(directory: Path = GRAMMAR_DIR) -> GrammarSet:
    """Read and compile every grammar file (cached on disk: reading them costs ~0.3 s)."""
    directory = Path(directory)
    files = sorted(directory.glob("*.grammar"))
    if not files:
        raise GrammarError("no grammar files found", file=str(directory))
    cache = _cache_path(files)
    try:
        with open(cache, "rb") as stream:
            return pickle.load(stream)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    grammars = _compile_files(files)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as stream:
            pickle.dump(grammars, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, cache)
    except OSError:
        pass  # a read-only home is fine: we compile every time
    return grammars


def _compile_files(files: list[Path]) -> GrammarSet:
    parsed = [dsl.read_grammar(path) for path in files]
    shared: dict[str, dsl.Token] = {}
    for grammar in parsed:
        if grammar.name == "tokens":
            shared = grammar.tokens
    compiled = []
    names = set()
    for grammar in parsed:
        if grammar.name == "tokens":
            continue
        for rule in grammar.rules:
            if rule.name in names:
                raise GrammarError(f"rule name {rule.name!r} used twice", file=rule.source)
            names.add(rule.name)
        compiled.append(compile_grammar(grammar, shared))
    return GrammarSet(tuple(compiled))
