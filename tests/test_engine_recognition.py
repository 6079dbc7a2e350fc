"""Recognition in groups: the engine's unknown lines are exactly the lines no rule matches.

The engine tells recognised from unknown lines with a few alternations of the rules' regexes,
each tried on what the earlier ones left (engine._recognise_groups); `classify` asks every rule
on its own. Both must leave the same lines unknown, garbage included.
"""

from __future__ import annotations

import random

import polars as pl
import pytest

from gcscope.grammar.compile import load_grammars
from gcscope.ingest import DETECT_BYTES, _choose_grammars
from gcscope.ingest.decorations import detect
from gcscope.ingest.engine import (
    LINE,
    LINE_NO,
    RECOGNISE_GROUP_CHARS,
    classify,
    lines_of,
    make_plan,
    run_chunk,
)

from .conftest import SAMPLE_LOGS

LOGS = ["jdk25/zgc-gcstar.log", "jdk17/g1-gcstar.log", "jdk25/shenandoah-generational-gcstar.log",
        "jdk17/parallel-gcstar-ergo-debug.log"]


def _plan_and_lines(name: str):
    data = (SAMPLE_LOGS / name).read_bytes()
    lines = data.decode().splitlines()
    # garbage a rule could half-match, between the JVM's own lines
    rng = random.Random(7)
    for at in sorted(rng.sample(range(len(lines)), 20), reverse=True):
        prefix = lines[at][: lines[at].find("]") + 1] if lines[at].startswith("[") else ""
        lines.insert(at, prefix + rng.choice([" GC(3) Pause Young (Normal) garbled", " Metaspace: x->y", "\x01junk"]))
    text = ("\n".join(lines) + "\n").encode()
    grammars = load_grammars()
    decorations = detect(lines[:200])
    return make_plan(decorations, grammars, _choose_grammars(text[:DETECT_BYTES], grammars)), lines_of(text)


@pytest.mark.parametrize("name", LOGS)
def test_unknown_lines_are_the_lines_no_rule_matches(name: str):
    plan, frame = _plan_and_lines(name)
    unknown = set(run_chunk(frame, plan, 1).unknown.get_column(LINE_NO).to_list())
    matched = classify(frame, plan)
    expected = {
        index + 1 for index, (rule, line) in enumerate(zip(matched.to_list(), frame.get_column(LINE).to_list()))
        if rule is None and line != ""
    }
    assert len(expected) >= 20  # the garbage lines at least
    assert unknown == expected


def test_the_groups_stay_under_the_size_that_slowed_the_regex_engine():
    plan, _ = _plan_and_lines("jdk25/zgc-gcstar.log")
    assert len(plan.recognise_regexes) > 1
    for regex in plan.recognise_regexes:
        branches = regex.count("|(?:") + 1
        assert len(regex) <= RECOGNISE_GROUP_CHARS or branches == 1, (len(regex), branches)
    assert pl.Series(plan.recognise_regexes).str.starts_with("^(?:").all()


@pytest.mark.parametrize("name", LOGS)
def test_each_line_yields_the_record_of_the_first_rule_that_matches_it(name: str):
    """Extraction keeps the first matching rule's record only (engine._without_claimed_earlier):
    the lines each extracting rule yields are exactly the lines `classify` gives that rule."""
    plan, frame = _plan_and_lines(name)
    extracted = {
        (line_no, rule)
        for records in run_chunk(frame, plan, 1).records
        for line_no, rule in records.select(LINE_NO, "rule").iter_rows()
    }
    extracting = {extractor.rule.name for extractor in plan.extractors}
    expected = {
        (index + 1, rule) for index, rule in enumerate(classify(frame, plan).to_list()) if rule in extracting
    }
    assert len(expected) > 100
    assert extracted == expected
