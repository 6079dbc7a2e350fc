"""The rules catalogue and the user's thresholds: `gcscope.toml`, `--config FILE`, `--set`.

The catalogue (`gcscope/rules/catalogue.toml`, package data) declares every rule's ID, title,
severity, thresholds with defaults, explanation and advice, plus the tolerances of `compare`.
A user's file overrides them:

    [rules.GCS004]          # any rule: its thresholds, plus `enabled` and `severity`
    pause_ms = 200
    severity = "error"

    [compare]               # tolerances of gcscope compare
    p99_pause_pct = 10

and `--set GCS004.pause_ms=200` / `--set compare.p99_pause_pct=10` override the file. Unknown
sections, rules or keys, values of the wrong type and values outside a threshold's range are a
ConfigError naming the file (or `--set`), the key and the expected value. A threshold's range
comes from the catalogue: `min`/`max` (inclusive) and `above` (exclusive lower bound); without
them a number must not be negative. Windows and durations are `above = 0`: a window of 0 s has
no meaning (and would divide by zero).

Standard library only: `gcscope rules` and the CLI parser need no heavy import.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gcscope.errors import ConfigError

SEVERITIES = ("info", "warning", "error")  # ascending
DEFAULT_CONFIG_NAME = "gcscope.toml"
COMMON_KEYS = ("enabled", "severity")  # accepted by every rule besides its thresholds


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Threshold:
    name: str
    default: Any  # float, int or bool: its type is the threshold's type
    help: str
    minimum: float | None = 0.0  # inclusive lower bound (numbers only)
    above: float | None = None  # exclusive lower bound
    maximum: float | None = None  # inclusive upper bound

    @property
    def type_name(self) -> str:
        """What a value must be, e.g. "a number above 0" or "an integer from 3"."""
        return _expected(self.default, self.minimum, self.above, self.maximum)

    def in_range(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if self.above is not None and value <= self.above:
            return False
        return self.maximum is None or value <= self.maximum


@dataclass(frozen=True)
class RuleSpec:
    """One catalogue entry: the data of a rule (its logic lives in analysis/rules.py)."""

    id: str
    title: str
    severity: str
    explanation: str
    advice: str
    thresholds: dict[str, Threshold]
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    rules: dict[str, RuleSpec]
    compare: dict[str, Threshold]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a non-negative integer"
    if isinstance(value, float):
        return "a non-negative number"
    return "a string"


def _expected(
    default: Any, minimum: float | None, above: float | None, maximum: float | None
) -> str:
    """e.g. "a non-negative number", "a number above 0", "a number from 0 to 100",
    "an integer of at least 3"."""
    if isinstance(default, bool) or not isinstance(default, int | float):
        return _type_name(default)
    if minimum == 0 and above is None and maximum is None:
        return _type_name(default)
    noun = "an integer" if isinstance(default, int) else "a number"
    if above is not None:
        text = f"{noun} above {above:g}"
        return f"{text} and at most {maximum:g}" if maximum is not None else text
    if minimum is not None and maximum is not None:
        return f"{noun} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{noun} of at least {minimum:g}"
    return f"{noun} of at most {maximum:g}" if maximum is not None else noun


_CATALOGUE: Catalogue | None = None


def catalogue() -> Catalogue:
    """The packaged rules catalogue (read once)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        text = resources.files("gcscope").joinpath("rules/catalogue.toml").read_text("utf-8")
        _CATALOGUE = parse_catalogue(tomllib.loads(text))
    return _CATALOGUE


RANGE_KEYS = ("min", "above", "max")


def _thresholds(table: Mapping[str, Any]) -> dict[str, Threshold]:
    out = {}
    for name, spec in table.items():
        unknown = set(spec) - {"default", "help", *RANGE_KEYS}
        assert not unknown, f"{name}: unknown catalogue key(s) {sorted(unknown)}"
        minimum = spec.get("min", None if "above" in spec else 0.0)
        threshold = Threshold(
            name,
            spec["default"],
            spec.get("help", ""),
            minimum=None if minimum is None else float(minimum),
            above=None if spec.get("above") is None else float(spec["above"]),
            maximum=None if spec.get("max") is None else float(spec["max"]),
        )
        if not isinstance(threshold.default, bool):
            assert threshold.in_range(threshold.default), f"{name}: default out of its range"
        out[name] = threshold
    return out


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    rules = {}
    for rule_id, entry in data["rules"].items():
        rules[rule_id] = RuleSpec(
            id=rule_id,
            title=entry["title"],
            severity=entry["severity"],
            explanation=" ".join(entry["explanation"].split()),
            advice=" ".join(entry["advice"].split()),
            thresholds=_thresholds(entry.get("thresholds", {})),
            match={k: tuple(v) for k, v in entry.get("match", {}).items()},
        )
        assert rules[rule_id].severity in SEVERITIES, rule_id
    return Catalogue(rules, _thresholds(data.get("compare", {})))


@dataclass
class RuleSettings:
    enabled: bool
    severity: str
    params: dict[str, Any]  # every threshold of the rule, default or overridden


@dataclass
class Config:
    """Effective settings: catalogue defaults with the user's overrides applied."""

    rules: dict[str, RuleSettings]
    compare: dict[str, Any]
    sources: list[str] = field(default_factory=list)  # where overrides came from

    def params(self, rule_id: str) -> dict[str, Any]:
        return dict(self.rules[rule_id].params)

    def threshold(self, rule_id: str, key: str) -> Any:
        return self.rules[rule_id].params[key]

    def to_dict(self) -> dict[str, Any]:
        """The thresholds in force, for the JSON output (so a result says what it was held to)."""
        return {
            "rules": {
                rule_id: {"enabled": s.enabled, "severity": s.severity, **s.params}
                for rule_id, s in self.rules.items()
            },
            "compare": dict(self.compare),
            "sources": list(self.sources),
        }


def default_config() -> Config:
    cat = catalogue()
    return Config(
        rules={
            rule_id: RuleSettings(
                True, spec.severity, {k: t.default for k, t in spec.thresholds.items()}
            )
            for rule_id, spec in cat.rules.items()
        },
        compare={k: t.default for k, t in cat.compare.items()},
    )


def _check_value(
    value: Any, expected: Any, where: str, key: str, threshold: Threshold | None = None
) -> Any:
    """`value` converted to the type of `expected` (and inside `threshold`'s range), or a
    ConfigError naming `key` and what it expects."""
    if key.endswith("severity"):
        if value not in SEVERITIES:
            raise ConfigError(
                f"{key}: expected one of {', '.join(SEVERITIES)}, got {value!r}", file=where
            )
        return value
    ok: bool
    if isinstance(expected, bool):
        ok = isinstance(value, bool)
    elif isinstance(expected, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    wanted = threshold.type_name if threshold is not None else _type_name(expected)
    if not ok:
        raise ConfigError(f"{key}: expected {wanted}, got {value!r}", file=where)
    if isinstance(value, bool):
        return value
    if threshold is None:
        threshold = Threshold(key, expected, "")
    if not threshold.in_range(value):
        why = "negative" if value < 0 else "out of range" if math.isfinite(value) else "not finite"
        raise ConfigError(f"{key}: expected {wanted}, got {value!r} ({why})", file=where)
    return float(value) if isinstance(expected, float) else value


def _apply(config: Config, section: str, key: str, value: Any, where: str) -> None:
    cat = catalogue()
    if section == "compare":
        if key not in cat.compare:
            raise ConfigError(
                f"compare.{key}: unknown key (known: {', '.join(cat.compare)})", file=where
            )
        config.compare[key] = _check_value(
            value, cat.compare[key].default, where, f"compare.{key}", cat.compare[key]
        )
        return
    rule_id = section.upper()
    if rule_id not in cat.rules:
        raise ConfigError(
            f"{section}: unknown rule (known: {', '.join(cat.rules)}; or 'compare')", file=where
        )
    spec = cat.rules[rule_id]
    settings = config.rules[rule_id]
    name = f"{rule_id}.{key}"
    if key == "enabled":
        settings.enabled = _check_value(value, True, where, name)
    elif key == "severity":
        settings.severity = _check_value(value, "", where, name)
    elif key in spec.thresholds:
        threshold = spec.thresholds[key]
        settings.params[key] = _check_value(value, threshold.default, where, name, threshold)
    else:
        known = ", ".join([*spec.thresholds, *COMMON_KEYS])
        raise ConfigError(f"{name}: unknown key (known: {known})", file=where)


def apply_file(config: Config, path: str | Path) -> None:
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such configuration file", file=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", file=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=where) from None
    for top, table in data.items():
        if top not in ("rules", "compare"):
            raise ConfigError(
                f"{top}: unknown section (expected [rules.GCSnnn] or [compare])", file=where
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{top}: expected a table", file=where)
        if top == "compare":
            for key, value in table.items():
                _apply(config, "compare", key, value, where)
            continue
        for rule_id, settings in table.items():
            if not isinstance(settings, dict):
                raise ConfigError(f"rules.{rule_id}: expected a table of thresholds", file=where)
            for key, value in settings.items():
                _apply(config, rule_id, key, value, where)
    config.sources.append(where)


def _parse_set_value(text: str) -> Any:
    """A --set value as TOML would read it (5, 2.5, true, "x"), else as a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_set(config: Config, assignment: str) -> None:
    where = "--set"
    name, sep, text = assignment.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key.strip():
        raise ConfigError(
            f"{assignment!r}: expected RULE.key=value, e.g. GCS004.pause_ms=200", file=where
        )
    _apply(config, section.strip(), key.strip(), _parse_set_value(text.strip()), where)
    config.sources.append(f"--set {name.strip()}")


def load_config(
    path: str | Path | None = None,
    sets: Iterable[str] = (),
    *,
    cwd: str | Path | None = None,
) -> Config:
    """Defaults, then `path` (or ./gcscope.toml when it exists and no path is given), then
    each `--set` assignment in order."""
    config = default_config()
    if path is None:
        found = Path(cwd or ".") / DEFAULT_CONFIG_NAME
        if found.is_file():
            path = found
    if path is not None:
        apply_file(config, path)
    for assignment in sets:
        apply_set(config, assignment)
    return config


def add_config_arguments(parser: Any) -> None:
    """`--config FILE` and `--set RULE.key=value` for a command's argparse parser."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"thresholds file (default: ./{DEFAULT_CONFIG_NAME} when present)",
    )
    parser.add_argument(
        "--set",
        metavar="RULE.key=VALUE",
        action="append",
        default=[],
        dest="set",
        help="override one threshold, e.g. GCS004.pause_ms=200 (repeatable)",
    )


def config_from_args(args: Any) -> Config:
    return load_config(getattr(args, "config", None), getattr(args, "set", None) or ())
