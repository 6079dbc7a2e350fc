"""Rules without a literal anchor cost every extracting rule after them a regex pass.

The engine tests each extracting rule's rows against the earlier rules that could claim them
(first rule wins, `engine.Extractor`); an earlier rule with no literal anchor is tested on every
such row. Adding one slowed the 16 MB-chunk engine pass by ~20 % on a G1 log, so the rules that
have none are listed here with the reason they cannot have one.
"""

from __future__ import annotations

from gcscope.grammar.compile import load_grammars

UNANCHORED = {
    "gc_statement": "any 'GC(n) <statement>' of common shape: no literal beyond the GC id",
    "other_subsystem": "recognised by its tag set alone",
    "task_stats_row_jdk11": "the rows of G1's JDK 9-11 per-worker task table: numbers only",
    "safepoint_statistics": "-Xlog:safepoint*'s summary rows at exit: an operation's name and a count",
    "shenandoah_statistics_row": "the exit statistics table's rows: a name and numbers",
    "shenandoah_age_census": "age census rows and their rule of dashes",
    "shenandoah_blank": "the blank rows between Shenandoah's exit tables",
    "zgc_statistics_table": "the statistics table's rows: a name and numbers",
}


def test_only_the_listed_rules_lack_a_literal_anchor():
    unanchored = {rule.name for rule in load_grammars().rules if not rule.anchor_set}
    assert unanchored == set(UNANCHORED), (
        f"new rules without an anchor: {sorted(unanchored - set(UNANCHORED))}; "
        f"listed but anchored now: {sorted(set(UNANCHORED) - unanchored)}"
    )


def test_the_unanchored_rules_come_last_in_common():
    """common's generic rules run after every collector rule and every other common rule, so no
    extracting rule of common pays for them."""
    common = [rule for rule in load_grammars().rules if rule.grammar == "common"]
    tail = [rule.name for rule in common[-4:]]
    assert tail == ["safepoint_statistics", "task_stats_row_jdk11", "gc_statement", "other_subsystem"]
