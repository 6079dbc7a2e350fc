"""Golden cases: every grammar rule ships with raw lines and the records they must yield.

Each case is checked by both engines: the vectorised engine must classify the line to the
named rule and extract exactly the expected, converted fields; the pyparsing reference parser
must name the same rule.
"""

from __future__ import annotations

import tomllib

import pytest

from gcscope.grammar.compile import GRAMMAR_DIR, load_grammars
from gcscope.grammar.reference import ReferenceParser
from gcscope.ingest.decorations import detect
from gcscope.ingest.engine import extract_line, make_plan

GOLDEN_DIR = GRAMMAR_DIR / "golden"


def _cases() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(GOLDEN_DIR.glob("*.toml")):
        for index, case in enumerate(tomllib.loads(path.read_text())["case"]):
            cases.append((f"{path.stem}[{index}]:{case['rule']}", case))
    return cases


CASES = _cases()


def test_every_rule_has_a_golden_case():
    covered = {case["rule"] for _, case in CASES}
    missing = [rule.name for rule in load_grammars().rules if rule.name not in covered]
    assert not missing, f"rules without golden cases in {GOLDEN_DIR}: {missing}"


def test_golden_cases_name_existing_rules():
    names = {rule.name for rule in load_grammars().rules}
    unknown = [case_id for case_id, case in CASES if case["rule"] not in names]
    assert not unknown


@pytest.mark.parametrize("case_id,case", CASES, ids=[c[0] for c in CASES])
def test_golden_case(case_id: str, case: dict):
    grammars = load_grammars()
    # as ingestion applies them: the rule's collector grammar first, then the common one
    own = grammars.rule(case["rule"]).grammar
    grammar_names = (own, "common") if own != "common" else ("common",)
    decorations = detect([case["line"]])
    plan = make_plan(decorations, grammars, grammar_names)
    rule, fields = extract_line(case["line"], plan)
    assert rule == case["rule"], f"engine matched {rule!r}"
    expected = case.get("expect", {})
    got = {k: fields.get(k) for k in expected}
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert got[key] == value, key
    # fields the case does not name must be null: nothing extracted silently
    extra = {k: v for k, v in fields.items() if k not in expected and k not in ("uptime_s", "time") and v is not None}
    assert not extra, f"fields extracted but not in the golden case: {extra}"

    values, message, _ = decorations.split(case["line"])
    explanation = ReferenceParser(grammars).explain(message, plan.rules, values.get("tags"))
    assert explanation.matched is not None and explanation.matched.name == case["rule"], explanation.render(message)


def test_rules_told_apart_by_their_leading_text_never_match_the_same_golden_line():
    """`rules_disjoint` lets the engine skip the first-rule-wins check between two rules: it must
    never call two rules disjoint when one line matches both."""
    import polars as pl

    from gcscope.grammar.compile import rules_disjoint
    from gcscope.ingest.engine import LINE

    grammars = load_grammars()
    rules = grammars.rules
    proven = 0
    for _, case in CASES:
        decorations = detect([case["line"]])
        plan = make_plan(decorations, grammars, tuple(g.name for g in grammars.grammars))
        own = grammars.rule(case["rule"])
        others = [r for r in rules if r is not own and rules_disjoint(r, own, decorations.has_tags)]
        proven += len(others)
        if not others:
            continue
        frame = pl.DataFrame({LINE: [case["line"]]})
        hits = frame.select([pl.col(LINE).str.contains(plan.full_regex(r, capture=False)).alias(r.name) for r in others])
        matched = [name for name, value in hits.row(0, named=True).items() if value]
        assert not matched, f"{case['rule']} and {matched} both match {case['line']!r}"
    assert proven > len(CASES) * len(rules) // 2  # the test tells most pairs apart


def test_rules_that_can_read_the_same_line_are_not_told_apart():
    from gcscope.grammar.compile import rules_disjoint

    grammars = load_grammars()
    pending, trigger = grammars.rule("shenandoah_trigger_pending"), grammars.rule("shenandoah_trigger")
    assert not rules_disjoint(pending, trigger, has_tags=True)
    assert rules_disjoint(grammars.rule("g1_pause"), grammars.rule("g1_eden_regions"), has_tags=True)
