"""`analyze --config FILE --set RULE.key=VALUE`: the rules' thresholds for `gcscope analyze`.

An extension of `gcscope analyze` (listed in `commands/analyze.py` ANALYZE_EXTENSIONS). The
analysis already computed the leak verdict and findings with the catalogue's defaults; when
the user gave thresholds (a file, ./gcscope.toml, or --set) they are computed again with them.
"""

from __future__ import annotations

import argparse
from typing import Any

from gcscope.config import add_config_arguments, config_from_args


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def before_ingest(args: argparse.Namespace) -> None:
    """A bad configuration fails before gigabytes of logs are read."""
    args.rules_config = config_from_args(args)


def after_analysis(args: argparse.Namespace, result: Any, ingest: Any) -> int | None:
    config = getattr(args, "rules_config", None) or config_from_args(args)
    if config.sources:
        from gcscope.analysis.rules import apply_rules

        apply_rules(result, ingest.events, ingest.runs, config)
    return None
