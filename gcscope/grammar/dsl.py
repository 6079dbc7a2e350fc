"""Reads grammar files (`grammars/*.grammar`) into plain data with pyparsing.

A grammar file declares what the JVM writes, once. It holds three kinds of blocks:

    token SIZE  /\\d+(?:\\.\\d+)?[BKMGT]/  as bytes     # a token class with its unit conversion

    rule g1_pause yields pause                           # a line kind and the record it yields
      tags gc                                            # optional: the tag set (when decorated)
      set category = "pause"                             # optional: constant fields
      match "GC(" gc_id:INT ") Pause " name:PAUSE_NAME
            [ " (" cause:CAUSE ")" ]
            " " heap_before_bytes:SIZE "->" heap_after_bytes:SIZE
            "(" heap_committed_bytes:SIZE ") " duration_ms:DURATION

    kinds name                                           # a table: field text -> model value
      "Young (Mixed)"   mixed                            # matched as a prefix, first wins
      "Full"            full

The match expression is restricted to what compiles to a regular expression: literals, tokens,
inline `/regex/`, named fields `name:ELEMENT`, sequence, alternation `( a | b )`, optional
`[ a ]` and bounded repetition `( a ){m,n}`. Lines of a rule block continue while indented.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from gcscope.errors import GrammarError

if TYPE_CHECKING:  # pyparsing is imported only when grammar files are read (not on a cache hit)
    import pyparsing as pp

# Conversions a token may declare; the compiler knows how to run each one vectorised.
CONVERSIONS = ("str", "int", "float", "bytes", "ms", "s", "regions")

# Record types a rule may yield (see gcscope/ingest/assemble.py for what each becomes).
RECORD_TYPES = (
    "pause",  # a stop-the-world pause: becomes an event
    "concurrent",  # a concurrent cycle with its duration: becomes an event
    "stall",  # an allocation stall: becomes an event
    "safepoint",  # a safepoint with its timings: becomes an event
    "heap_sample",  # heap occupancy without a collection: becomes an event
    "attribute",  # more columns of the event with the same GC id (generations, metaspace...)
    "attribute_after",  # the same, for lines printed after their event (CPU times)
    "cycle_start",  # the line a concurrent cycle begins with: its uptime is the cycle's start;
    # without a GC id it announces the next GC id (its fields, e.g. cause, fill that GC's events)
    "safepoint_start",  # the line a safepoint begins with (JDK 9-12): names the next safepoint
    "init",  # run metadata (collector, heap sizes, version, CPUs...)
    "info",  # recognised, nothing extracted
)


@dataclasses.dataclass(frozen=True)
class Literal:
    text: str


@dataclasses.dataclass(frozen=True)
class TokenRef:
    name: str


@dataclasses.dataclass(frozen=True)
class InlineRegex:
    pattern: str


@dataclasses.dataclass(frozen=True)
class SkipTo:
    """`...`: the shortest text up to the literal that follows (regex `.*?`, pyparsing SkipTo)."""


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    element: object  # TokenRef | InlineRegex | Group | Alternation


@dataclasses.dataclass(frozen=True)
class Sequence:
    items: tuple


@dataclasses.dataclass(frozen=True)
class Alternation:
    options: tuple  # of Sequence


@dataclasses.dataclass(frozen=True)
class Optional:
    body: Sequence


@dataclasses.dataclass(frozen=True)
class Repeat:
    body: object  # Alternation (a group)
    low: int
    high: int


@dataclasses.dataclass(frozen=True)
class Token:
    name: str
    pattern: str
    conversion: str
    source: str  # file:line, for messages


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    yields: str
    match: Sequence
    tags: tuple[str, ...] | None  # alternative tag sets ("gc,phases", ...); None: any tags
    level: str | None
    constants: tuple[tuple[str, str], ...]
    source: str  # file:line


@dataclasses.dataclass(frozen=True)
class KindTable:
    field: str
    entries: tuple[tuple[str, str], ...]  # (prefix, value), first match wins
    source: str


@dataclasses.dataclass
class GrammarFile:
    name: str
    path: Path
    collectors: tuple[str, ...]  # collectors this file applies to; ("*",) for all
    detect: tuple[str, ...]  # literals that identify this collector in a log
    tokens: dict[str, Token]
    rules: list[Rule]
    kinds: list[KindTable]


# --- the pyparsing grammar of grammar files --------------------------------------------------


@lru_cache(maxsize=1)
def _element_parser() -> pp.ParserElement:
    import pyparsing as pp

    string = pp.QuotedString('"', esc_char="\\", unquote_results=True)
    regex = pp.QuotedString("/", esc_char=None, esc_quote="\\/", unquote_results=True)
    ident = pp.Word(pp.alphas + "_", pp.alphanums + "_")
    integer = pp.Word(pp.nums)

    expr = pp.Forward()
    options = pp.Group(expr) + pp.ZeroOrMore(pp.Suppress("|") + pp.Group(expr))
    group = pp.Suppress("(") + pp.Group(options)("group") + pp.Suppress(")")
    group_rep = group + pp.Optional(
        pp.Suppress("{") + integer("low") + pp.Suppress(",") + integer("high") + pp.Suppress("}")
    )
    optional = pp.Suppress("[") + pp.Group(expr)("optional") + pp.Suppress("]")
    atom_noname = (
        pp.Literal("...")("skip")
        | string("literal")
        | regex("regex")
        | pp.Group(group_rep)("grouped")
        | optional
        | ident("token")
    )
    field = ident("field") + pp.Suppress(":") + pp.Group(atom_noname)("element")
    item = pp.Group(field | atom_noname)
    expr <<= pp.OneOrMore(item)
    return expr


def _build(parsed, where: str):
    """Turn pyparsing results of one expression into the dataclasses above."""
    items = []
    for item in parsed:
        items.append(_build_item(item, where))
    return Sequence(tuple(items))


def _build_item(item, where: str):
    if "field" in item:
        element = _build_item(item["element"], where)
        if isinstance(element, (Optional, SkipTo)):
            raise GrammarError(f"field {item['field']!r} must capture a literal, token, regex or group", file=where)
        return Field(item["field"], element)
    if "skip" in item:
        return SkipTo()
    if "literal" in item:
        return Literal(item["literal"])
    if "regex" in item:
        return InlineRegex(item["regex"])
    if "optional" in item:
        return Optional(_build(item["optional"], where))
    if "grouped" in item:
        grouped = item["grouped"]
        alternation = Alternation(tuple(_build(option, where) for option in grouped["group"]))
        if "low" in grouped:
            low, high = int(grouped["low"]), int(grouped["high"])
            if not 0 <= low <= high <= 64:
                raise GrammarError(f"repetition {{{low},{high}}} must be bounded, 0 <= m <= n <= 64", file=where)
            return Repeat(alternation, low, high)
        return alternation
    if "token" in item:
        return TokenRef(item["token"])
    raise GrammarError(f"cannot read element {item!r}", file=where)


def parse_match(text: str, where: str = "<match>") -> Sequence:
    import pyparsing as pp

    try:
        parsed = _element_parser().parse_string(text, parse_all=True)
    except pp.ParseBaseException as exc:
        raise GrammarError(
            f"bad match expression at column {exc.column}: {exc.msg}\n  {text}\n  {' ' * (exc.column - 1)}^",
            file=where,
        ) from None
    return _build(parsed, where)


# --- file structure: blocks of indented lines --------------------------------------------------


def _strip_comment(line: str) -> str:
    """Remove a trailing `# comment` that is outside quotes and regexes."""
    in_quote = in_regex = False
    prev = ""
    for i, ch in enumerate(line):
        if ch == '"' and not in_regex and prev != "\\":
            in_quote = not in_quote
        elif ch == "/" and not in_quote and prev != "\\":
            in_regex = not in_regex
        elif ch == "#" and not in_quote and not in_regex and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
        prev = ch
    return line.rstrip()


def _blocks(path: Path):
    """Yield (line_number, header, [(line_number, body_line), ...]) per top-level block."""
    block = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        if not line[0].isspace():
            if block:
                yield block
            block = (number, line.strip(), [])
        elif block is None:
            raise GrammarError("indented line outside any block", file=str(path), line=number)
        else:
            block[2].append((number, line.strip()))
    if block:
        yield block


@lru_cache(maxsize=1)
def _headers():
    import pyparsing as pp

    token = (
        pp.Keyword("token")
        + pp.Word(pp.alphas.upper() + "_", pp.alphanums.upper() + "_")("name")
        + pp.QuotedString("/", esc_char=None, esc_quote="\\/")("pattern")
        + pp.Keyword("as")
        + pp.one_of(" ".join(CONVERSIONS))("conversion")
    )
    rule = (
        pp.Keyword("rule")
        + pp.Word(pp.alphas + "_", pp.alphanums + "_")("name")
        + pp.Keyword("yields")
        + pp.one_of(" ".join(RECORD_TYPES))("yields")
    )
    setting = (
        pp.Keyword("set")
        + pp.Word(pp.alphas + "_", pp.alphanums + "_")("field")
        + pp.Suppress("=")
        + pp.QuotedString('"', esc_char="\\")("value")
    )
    kinds_row = pp.QuotedString('"', esc_char="\\") + pp.Word(pp.alphanums + "_")
    quoted = pp.QuotedString('"', esc_char="\\")
    return token, rule, setting, kinds_row, quoted


def read_grammar(path: Path) -> GrammarFile:
    import pyparsing as pp

    token_header, _, _, kinds_row, quoted = _headers()
    path = Path(path)
    grammar = GrammarFile(path.stem, path, ("*",), (), {}, [], [])
    for number, header, body in _blocks(path):
        where = f"{path.parent.name}/{path.name}:{number}"
        keyword = header.split()[0]
        try:
            if keyword == "grammar":
                grammar.name = header.split()[1]
            elif keyword == "collectors":
                grammar.collectors = tuple(c.strip() for c in header.split(None, 1)[1].split(","))
            elif keyword == "detect":
                text = " ".join([header] + [line for _, line in body])
                literals = quoted.search_string(text)
                grammar.detect = tuple(found[0] for found in literals)
            elif keyword == "token":
                parsed = token_header.parse_string(header, parse_all=True)
                if parsed["name"] in grammar.tokens:
                    raise GrammarError(f"token {parsed['name']} defined twice", file=where)
                grammar.tokens[parsed["name"]] = Token(
                    parsed["name"], parsed["pattern"], parsed["conversion"], where
                )
            elif keyword == "rule":
                grammar.rules.append(_read_rule(header, body, where))
            elif keyword == "kinds":
                entries = []
                for line_number, line in body:
                    row = kinds_row.parse_string(line, parse_all=True)
                    entries.append((row[0], row[1]))
                grammar.kinds.append(KindTable(header.split()[1], tuple(entries), where))
            else:
                raise GrammarError(f"unknown block {keyword!r}; expected grammar, collectors, detect, token, rule or kinds", file=where)
        except pp.ParseBaseException as exc:
            raise GrammarError(f"cannot read {keyword!r} block: {exc.msg} at column {exc.column}", file=where) from None
    return grammar


def _read_rule(header: str, body: list[tuple[int, str]], where: str) -> Rule:
    _, rule_header, setting, _, _ = _headers()
    parsed = rule_header.parse_string(header, parse_all=True)
    tags = level = None
    constants = []
    match_parts: list[str] = []
    tag_parts: list[str] = []
    continuing = None  # "match" or "tags": the keyword whose value spans several lines
    for _, line in body:
        word = line.split()[0]
        if word == "tags":
            tag_parts.append(line[len("tags"):])
            continuing = "tags"
        elif word == "level":
            level = line.split()[1]
            continuing = None
        elif word == "set":
            s = setting.parse_string(line, parse_all=True)
            constants.append((s["field"], s["value"]))
            continuing = None
        elif word == "match":
            match_parts.append(line[len("match"):])
            continuing = "match"
        elif continuing == "match":
            match_parts.append(line)
        elif continuing == "tags":
            tag_parts.append(line)
        else:
            raise GrammarError(f"unknown rule line {line!r}; expected tags, level, set or match", file=where)
    if tag_parts:
        tags = tuple(
            ",".join(t.strip() for t in option.split(","))
            for option in " ".join(tag_parts).split("|")
            if option.strip()
        )
    if not match_parts:
        raise GrammarError(f"rule {parsed['name']} has no match", file=where)
    match = parse_match(" ".join(match_parts), where)
    return Rule(parsed["name"], parsed["yields"], match, tags, level, tuple(constants), where)
