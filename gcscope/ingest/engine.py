"""The vectorised grammar engine: compiled rules run by polars over whole chunks of lines.

Per chunk it makes few full passes over the lines (see ../shared/DESIGN.md for the budget):
a few combined regexes tell recognised from unknown lines, and each rule that yields data first
keeps only the lines holding its literal anchor (a cheap `contains`), then extracts its fields
on those rows alone. No Python runs per line; no "message" column is ever materialised.
"""

from __future__ import annotations

import dataclasses
import io
import re
from functools import lru_cache

import polars as pl

from gcscope.grammar.compile import CompiledRule, GrammarSet, rules_disjoint
from gcscope.ingest.decorations import Decorations

LINE = "line"
LINE_NO = "line_no"  # 1-based within the file
RULE = "rule"

# Conversion of a captured text to its unit, as polars expressions (see tokens.grammar).
_SIZE_FACTORS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


# Token texts are known to match their token's regex (tokens.grammar), so conversions need no
# regex of their own: strip the unit, cast the number (a regex per field cost more than the
# extraction that found it).
_UNIT_CHARS = " %abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _number(expr: pl.Expr) -> pl.Expr:
    """The leading number of a token text ("12.5%", "1.500G", "0.21s", "3 seconds")."""
    return expr.str.strip_chars_end(_UNIT_CHARS).cast(pl.Float64, strict=False)


def convert(name: str, conversion: str) -> pl.Expr:
    text = pl.col(name)
    if conversion == "str":
        return text
    if conversion in ("int", "regions"):
        return text.cast(pl.Int64, strict=False)
    if conversion in ("float", "s"):
        return _number(text)
    if conversion == "bytes":  # "411M", "96K", "0B", "1.500G", "64 MB"
        scaled = text.str.strip_chars_end("B")
        unit = scaled.str.slice(-1).replace_strict(_SIZE_FACTORS, default=1.0, return_dtype=pl.Float64)
        return (_number(scaled) * unit).round(0).cast(pl.Int64)
    if conversion == "ms":  # "11.751ms", "0.010s", "11.751 ms", "5us", "120 ns"
        unit = (
            pl.when(text.str.ends_with("ms")).then(1.0)
            .when(text.str.ends_with("us")).then(1e-3)
            .when(text.str.ends_with("ns")).then(1e-6)
            .when(text.str.ends_with("s")).then(1000.0)
        )
        return _number(text) * unit
    raise ValueError(conversion)


def uptime_seconds(decorator: str) -> pl.Expr:
    text = pl.col("_uptime")
    if decorator == "uptime":
        return text.str.replace(",", ".", literal=True).str.strip_chars_end("s").cast(pl.Float64)
    if decorator == "uptimemillis":
        return text.str.strip_chars_end("ms").cast(pl.Float64) / 1e3
    return text.str.strip_chars_end("ns").cast(pl.Float64) / 1e9  # uptimenanos or timenanos


def wall_time(decorator: str) -> pl.Expr:
    text = pl.col("_time")
    if decorator in ("time", "utctime"):
        return text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.3f%z", strict=False).dt.convert_time_zone(
            "UTC"
        ).dt.cast_time_unit("ms")
    return pl.from_epoch(text.str.strip_chars_end("ms").cast(pl.Int64), "ms").dt.replace_time_zone("UTC")


@dataclasses.dataclass(frozen=True)
class Extractor:
    rule: CompiledRule
    order: int  # position of the rule in grammar order: the first matching rule wins
    regex: str  # decorations + message; message only for attribute rules (see make_plan)
    # The first matching rule wins, so a line the rule reads may belong to an earlier rule (an
    # info rule carving out an exception, e.g. "Trigger: GC start is already pending"). Lines
    # holding one of the earlier rules' anchor literals (`earlier_literals_regex`, their escaped
    # alternation) are tested against `earlier_regex`; every line against
    # `earlier_unanchored_regex` (earlier rules that have no anchor).
    earlier_literals_regex: str | None
    earlier_regex: str | None
    earlier_unanchored_regex: str | None


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything the engine runs for files with one decoration set and one set of grammars."""

    decorations: Decorations
    rules: tuple[CompiledRule, ...]  # in priority order
    # Recognition: the rules' whole-line regexes in alternations of at most RECOGNISE_GROUP_CHARS
    # each, tried one after the other on the lines the earlier ones left (see _recognise_groups)
    recognise_regexes: tuple[str, ...]
    extractors: tuple[Extractor, ...]
    rule_dtype: pl.DataType  # the RULE column: an Enum of every rule name (4 bytes a record)

    def full_regex(self, rule: CompiledRule, capture: bool = True) -> str:
        identity = capture and rule.yields == "init"
        prefix = self.decorations.prefix_regex(rule.tags, capture=capture, identity=identity)
        return f"{prefix}(?:{rule.body_regex})$"


def make_plan(decorations: Decorations, grammars: GrammarSet, names: tuple[str, ...],
              wanted: frozenset[str] | None = None) -> Plan:
    """`names`: the grammars to apply; `wanted`: record types to extract (None: all)."""
    return _make_plan(decorations, grammars, names, wanted)


@lru_cache(maxsize=64)
def _make_plan(decorations: Decorations, grammars: GrammarSet, names: tuple[str, ...],
               wanted: frozenset[str] | None) -> Plan:
    rules = tuple(rule for name in names for rule in grammars.by_name(name).rules)
    rule_dtype = pl.Enum([rule.name for rule in grammars.rules])
    plan = Plan(decorations, rules, (), (), rule_dtype)
    recognise = _recognise_groups(plan, rules)
    extractors = tuple(
        Extractor(rule, order, _extraction_regex(plan, rule), *_earlier(plan, rule, rules[:order]))
        for order, rule in enumerate(rules)
        if rule.yields != "info" and _is_wanted(rule, wanted)
    )
    return Plan(decorations, rules, recognise, extractors, rule_dtype)


# One alternation of every rule is slow past a size: the regex engine's lazy DFA outgrows its
# cache and falls back to a slower matcher. Measured on a generational ZGC log (93 rules, 30 K
# characters): 224 ms a 3 MB chunk as one regex, 12 ms as 6 groups of at most 6,000 characters;
# a G1 log (66 rules) the same either way (~30 ms a 16 MB chunk).
RECOGNISE_GROUP_CHARS = 6000
# Tried first: common's generic statement rule recognises most lines of a gc* log (the phase
# lines), so the later groups run on few lines.
_RECOGNISED_FIRST = ("gc_statement",)


def _recognise_groups(plan: Plan, rules: tuple[CompiledRule, ...]) -> tuple[str, ...]:
    """The recognising alternations, in the order they are tried. Recognition only asks whether
    some rule matches (which one is the extractors' business), so any grouping gives the same
    lines; named groups may repeat across rules, so none is kept."""
    ordered = [r for r in rules if r.name in _RECOGNISED_FIRST] + [r for r in rules if r.name not in _RECOGNISED_FIRST]
    groups: list[list[str]] = []
    size = 0
    for rule in ordered:
        branch = f"(?:{_bare(plan, rule)[1:]})"
        if not groups or size + len(branch) + 1 > RECOGNISE_GROUP_CHARS:
            groups.append([])
            size = len("^(?:)")
        groups[-1].append(branch)
        size += len(branch) + 1  # and its "|"
    return tuple("^(?:" + "|".join(group) + ")" for group in groups)


def _earlier(plan: Plan, rule: CompiledRule, earlier: tuple[CompiledRule, ...]) -> tuple[str | None, str | None, str | None]:
    """What `Extractor.earlier_*` test: the earlier rules that could match a line `rule` reads."""
    earlier = tuple(other for other in earlier if not rules_disjoint(other, rule, plan.decorations.has_tags))

    def alternation(rules: list[CompiledRule]) -> str | None:
        if not rules:
            return None
        return "|".join(f"(?:{_bare(plan, rule)})" for rule in rules)

    anchored = [rule for rule in earlier if rule.anchor_set]
    literals = sorted({literal for rule in anchored for literal in rule.anchor_set})
    # A regex alternation of the literals, not `str.contains_any`: measured on 11 k metaspace
    # lines with 15 literals, 0.8 ms against 2.8 ms (contains_any pays per row and literal).
    literals_regex = "|".join(re.escape(literal) for literal in literals) or None
    return literals_regex, alternation(anchored), alternation([rule for rule in earlier if not rule.anchor_set])


def _bare(plan: Plan, rule: CompiledRule) -> str:
    """The rule's whole-line regex with no groups: named groups repeat across rules."""
    return re.sub(r"\(\?P<\w+>", "(?:", plan.full_regex(rule, capture=False))


def _extraction_regex(plan: Plan, rule: CompiledRule) -> str:
    """Attribute lines join their event by GC id and line order: they need no uptime, so their
    regex skips the decorations (half the capture work). Lines no rule recognised are dropped
    from the records afterwards, so a message inside a garbled line yields nothing."""
    if rule.yields in ("attribute", "attribute_after") and rule.tags is None:
        return f"(?:{rule.body_regex})$"
    return plan.full_regex(rule)


# Record types every analysis needs whatever it asks for: events, and run metadata.
_ALWAYS = frozenset({"pause", "concurrent", "stall", "safepoint", "heap_sample", "init", "cycle_start",
                     "safepoint_start"})


# Fields ingestion itself reads whatever is wanted: G1's region size, when the log lacks it, is
# inferred from the regions occupied after GC (assemble._infer_region_size).
REGION_INFERENCE_FIELDS = ("survivor_after_regions", "old_after_regions", "humongous_after_regions")


def _is_wanted(rule: CompiledRule, wanted: frozenset[str] | None) -> bool:
    """`wanted`: model columns the caller needs (None: all). Attribute rules run only when
    one of their columns is wanted, or a field that region inference reads; regions count as
    the bytes columns they become."""
    if wanted is None or rule.yields in _ALWAYS:
        return True
    fields = {name for name, _ in rule.fields}
    if fields & set(REGION_INFERENCE_FIELDS):
        return True
    return bool({name.replace("_regions", "_bytes") for name in fields} & wanted)


def lines_of(chunk: bytes) -> pl.DataFrame:
    """One string column of the chunk's lines (CRLF and invalid UTF-8 tolerated, blanks kept)."""
    separator = next((chr(c) for c in (1, 2, 3, 4, 5, 6, 7, 8, 14, 15) if bytes([c]) not in chunk), None)
    if separator is None or b"\x00" in chunk:
        # Pathological input (every control byte present, or NULs that the CSV reader rejects):
        # fall back to a plain split, slower but exact.
        text = chunk.replace(b"\x00", b"\xef\xbf\xbd").decode("utf-8", "replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return pl.DataFrame({LINE: [line.removesuffix("\r") for line in lines]}, schema={LINE: pl.String})
    frame = pl.read_csv(
        io.BytesIO(chunk),
        has_header=False,
        separator=separator,
        quote_char=None,
        new_columns=[LINE],
        schema_overrides={LINE: pl.String},
        encoding="utf8-lossy",
        comment_prefix=None,
        truncate_ragged_lines=False,
    )
    return frame.with_columns(pl.col(LINE).fill_null(""))


@dataclasses.dataclass
class ChunkResult:
    lines: int
    blank: int
    records: list[pl.DataFrame]  # one frame per extractor that matched, with RULE and LINE_NO
    unknown: pl.DataFrame  # LINE_NO, LINE of lines no rule recognised


def run_chunk(frame: pl.DataFrame, plan: Plan, first_line_no: int) -> ChunkResult:
    """Run the plan over one chunk's lines. `first_line_no`: file line number of row 0.

    Two phases, each a batch of independent queries that polars runs in parallel:
    1. over all lines: the first recognising regex, blank lines, and one Aho-Corasick pass
       that tags each line with the extracting rules' anchors it holds; then the other
       recognising regexes, each on the lines the ones before left (unknown lines remain);
    2. per rule, over the lines tagged with its anchor only: the rule's other literals,
       then its regex with the field captures.
    """
    indexed = frame.lazy().with_row_index(LINE_NO, offset=first_line_no)
    line = pl.col(LINE)
    anchors = sorted({e.rule.anchor for e in plan.extractors if e.rule.anchor})
    first, *later = plan.recognise_regexes
    phase_one = [
        indexed.filter(~line.str.contains(first) & (line != "")).select(LINE_NO, LINE),
        indexed.select((line == "").sum().alias("blank")),
    ]
    if anchors:
        phase_one.append(
            indexed.select(LINE_NO, LINE, line.str.extract_many(anchors, overlapping=True).alias("_anchor"))
            .filter(pl.col("_anchor").list.len() > 0)
        )
    unknown, blank, *tagged = pl.collect_all(phase_one)
    for regex in later:  # one at a time: each runs on what the ones before left
        if not unknown.height:
            break
        unknown = unknown.filter(~line.str.contains(regex))
    by_anchor: dict[str, pl.DataFrame] = {}
    if tagged:
        exploded = tagged[0].explode("_anchor")
        by_anchor = {key[0]: part.drop("_anchor") for key, part in exploded.partition_by("_anchor", as_dict=True).items()}

    queries, extractors = [], []
    for extractor in plan.extractors:
        if extractor.rule.anchor:
            if extractor.rule.anchor not in by_anchor:
                continue
            rows = by_anchor[extractor.rule.anchor].lazy()
        else:
            rows = indexed
        for literal in extractor.rule.also:
            rows = rows.filter(line.str.contains(literal, literal=True))
        extractors.append(extractor)
        query = rows.select(LINE_NO, LINE, line.str.extract_groups(extractor.regex).alias("m")).unnest("m")
        query = query.filter(_matched(extractor))
        if extractor.earlier_unanchored_regex:
            query = query.filter(~line.str.contains(extractor.earlier_unanchored_regex))
        queries.append(query.with_columns(pl.lit(extractor.rule.name, dtype=plan.rule_dtype).alias(RULE)))
    records = []
    unknown_line_nos = unknown.get_column(LINE_NO)
    for extractor, found in zip(extractors, pl.collect_all(queries) if queries else []):
        found = _without_claimed_earlier(found, extractor).drop(LINE)
        # drop rows of lines that no rule recognised as a whole
        if unknown_line_nos.len():
            found = found.filter(~pl.col(LINE_NO).is_in(unknown_line_nos.implode()))
        if found.height:
            records.append(_convert(found, extractor.rule, plan.decorations))
    return ChunkResult(frame.height, int(blank.item()), records, unknown)


def _matched(extractor: Extractor) -> pl.Expr:
    """extract_groups yields a struct of nulls where the regex did not match."""
    names = [name for name, _ in extractor.rule.fields]
    names += [group for group in ("_uptime", "_time", "_hostname", "_pid") if f"?P<{group}>" in extractor.regex]
    return pl.any_horizontal(pl.col(names).is_not_null()) if names else pl.lit(True)


def _without_claimed_earlier(found: pl.DataFrame, extractor: Extractor) -> pl.DataFrame:
    """`found` less the lines an earlier rule reads. The earlier rules' regex runs only on the
    few lines holding one of their literals: a filter over every row would run it on all
    (polars evaluates both sides of an `&`), ~4 ms a rule on 11 k metaspace lines."""
    if not extractor.earlier_regex or not found.height:
        return found
    line = pl.col(LINE)
    suspects = found.filter(line.str.contains(extractor.earlier_literals_regex))
    if not suspects.height:
        return found
    claimed = suspects.filter(line.str.contains(extractor.earlier_regex)).get_column(LINE_NO)
    return found.filter(~pl.col(LINE_NO).is_in(claimed.implode())) if claimed.len() else found


def _convert(found: pl.DataFrame, rule: CompiledRule, decorations: Decorations) -> pl.DataFrame:
    exprs = [pl.col(LINE_NO), pl.col(RULE)]
    if decorations.uptime_field and "_uptime" in found.columns:
        exprs.append(uptime_seconds(decorations.uptime_field).alias("uptime_s"))
    if decorations.time_field and "_time" in found.columns:
        exprs.append(wall_time(decorations.time_field).alias("time"))
    if "_hostname" in found.columns:
        exprs.append(pl.col("_hostname").str.strip_chars().alias("hostname"))
    if "_pid" in found.columns:
        exprs.append(pl.col("_pid").str.extract(r"(\d+)", 1).cast(pl.Int64).alias("pid"))
    for name, conversion in rule.fields:
        exprs.append(convert(name, conversion).alias(name))
    for name, value in rule.constants:
        exprs.append(pl.lit(value).alias(name))
    return found.select(exprs)


def classify(frame: pl.DataFrame, plan: Plan) -> pl.Series:
    """The first rule (in grammar order) matching each line, or null: the engine's answer to
    "which rule is this line?", used by the differential and golden tests (not the hot path)."""
    line = pl.col(LINE)
    bare = [_bare(plan, rule) for rule in plan.rules]
    expr = pl.lit(None, dtype=pl.String)
    for rule, regex in reversed(list(zip(plan.rules, bare))):
        expr = pl.when(line.str.contains(regex)).then(pl.lit(rule.name)).otherwise(expr)
    return frame.select(expr.alias(RULE)).get_column(RULE)


def extract_line(line: str, plan: Plan) -> tuple[str | None, dict]:
    """Engine view of a single line: its rule and converted fields (for tests and explain-line)."""
    frame = pl.DataFrame({LINE: [line]}, schema={LINE: pl.String})
    rule_name = classify(frame, plan).item()
    if rule_name is None:
        return None, {}
    rule = next(r for r in plan.rules if r.name == rule_name)
    found = frame.select(pl.lit(1, dtype=pl.UInt32).alias(LINE_NO), pl.col(LINE).str.extract_groups(
        plan.full_regex(rule)).alias("m")).unnest("m").with_columns(pl.lit(rule.name).alias(RULE))
    converted = _convert(found, rule, plan.decorations).row(0, named=True)
    converted.pop(LINE_NO)
    converted.pop(RULE)
    return rule_name, converted
