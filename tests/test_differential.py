"""The two engines agree: the vectorised engine and the pyparsing reference parser name the
same rule (or none) for the lines of real logs.

The reference parser is ~100x slower, so each log contributes one line per distinct shape
(the line with its numbers masked): lines of one shape take the same path through both
engines. Every rule that matches a shape is checked, with every decoration set.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from gcscope.grammar.compile import load_grammars
from gcscope.grammar.reference import ReferenceParser
from gcscope.ingest import DETECT_BYTES, _choose_grammars
from gcscope.ingest.decorations import detect
from gcscope.ingest.engine import LINE, classify, lines_of, make_plan
from gcscope.ingest.sources import read_chunks, resolve

from .conftest import SAMPLE_LOGS
from .corpus_logs import sample_logs, unified_corpus_logs

LOGS = unified_corpus_logs() + sample_logs()


def log_bytes(log: Path) -> bytes:
    """The log's text as gcscope reads it: a `.gz` decompressed (sample_logs/leak/*.log.gz)."""
    [source] = resolve([str(log)])
    return b"".join(read_chunks(source))


def _shapes(lines: list[str]) -> list[str]:
    seen, kept = set(), []
    for line in lines:
        shape = re.sub(r"\d+", "N", line)
        if shape not in seen:
            seen.add(shape)
            kept.append(line)
    return kept


@pytest.mark.parametrize("log", LOGS, ids=[str(p.relative_to(p.parents[1])) for p in LOGS])
def test_engines_agree_on_every_line_shape(log: Path):
    grammars = load_grammars()
    reference = ReferenceParser(grammars)
    data = log_bytes(log)
    frame = lines_of(data)
    decorations = detect(frame.get_column(LINE).head(200).to_list())
    plan = make_plan(decorations, grammars, _choose_grammars(data[:DETECT_BYTES], grammars))
    sample = pl.DataFrame({LINE: _shapes(frame.get_column(LINE).to_list())})
    engine_rules = classify(sample, plan).to_list()
    disagreements = []
    for line, engine_rule in zip(sample.get_column(LINE).to_list(), engine_rules):
        if not line:
            continue
        values, message, _ = decorations.split(line)
        if decorations.fields and not values:
            # every rule's regex starts with the file's decorations: a line without them (a
            # banner such as "=====" in a decorated file) belongs to no rule in either engine
            reference_rule = None
        else:
            explanation = reference.explain(message, plan.rules, values.get("tags"))
            reference_rule = explanation.matched.name if explanation.matched else None
        if reference_rule != engine_rule:
            disagreements.append((engine_rule, reference_rule, line))
    assert len(sample) > 1 and any(rule is not None for rule in engine_rules), "no line recognised"
    assert not disagreements, "\n".join(f"engine={e} reference={r}: {line}" for e, r, line in disagreements[:10])


def test_compressed_sample_logs_are_compared_on_their_lines():
    gz = [log for log in LOGS if log.suffix == ".gz"]
    assert gz
    for log in gz:
        data = log_bytes(log)
        assert data.startswith(b"[") and b"\x00" not in data[:4096], log
        assert data.count(b"\n") > 10, log


INDENTED_LOGS = [SAMPLE_LOGS / "jdk25" / "zgc-gcstar.log", SAMPLE_LOGS / "jdk17" / "shenandoah-gcstar.log",
                 SAMPLE_LOGS / "jdk21" / "g1-gcstar.log"]


@pytest.mark.parametrize("log", INDENTED_LOGS, ids=[str(p.relative_to(p.parents[1])) for p in INDENTED_LOGS])
def test_the_separator_space_is_not_a_rules_own_indent(log: Path):
    """Lines whose message is indented ("] " then "  Cache 38M (2)"), once more with the indent
    taken away: the space after the decorations belongs to them, so a rule that begins with
    spaces must not take it as its own in one engine and not in the other."""
    grammars = load_grammars()
    reference = ReferenceParser(grammars)
    data = log_bytes(log)
    lines = lines_of(data).get_column(LINE).to_list()
    decorations = detect(lines[:200])
    plan = make_plan(decorations, grammars, _choose_grammars(data[:DETECT_BYTES], grammars))
    variants = []
    for line in _shapes(lines):
        values, message, offset = decorations.split(line)
        if values and message.startswith(" ") and message.strip():
            variants += [line, line[:offset] + message.lstrip(" ")]
    assert len(variants) >= 4, "no indented message in the log"
    engine_rules = classify(pl.DataFrame({LINE: variants}), plan).to_list()
    disagreements = []
    for line, engine_rule in zip(variants, engine_rules, strict=True):
        values, message, _ = decorations.split(line)
        explanation = reference.explain(message, plan.rules, values.get("tags"))
        reference_rule = explanation.matched.name if explanation.matched else None
        if reference_rule != engine_rule:
            disagreements.append((engine_rule, reference_rule, line))
    assert not disagreements, "\n".join(f"engine={e} reference={r}: {line}" for e, r, line in disagreements[:10])
