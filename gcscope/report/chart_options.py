"""The chart and HTML options of `gcscope analyze` (an entry of its ANALYZE_EXTENSIONS):

    --png DIR        one PNG per chart into DIR (stable names: heap.png, pauses.png, …)
    --html FILE      one self-contained HTML report
    --dpi N          chart resolution: 16 x 9 inches at N dpi (default 100: 1600 x 900 px)
    --save FILE.json the result as JSON plus the events beside it (FILE.events.parquet, and
                     FILE.samples.parquet for live recordings), so `gcscope report FILE.json`
                     renders the same report later without the log

`gcscope report` reuses `add_render_arguments` and `render_outputs`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gcscope.errors import UsageError

DEFAULT_DPI = 100  # the same as gcscope.report.charts._base.DEFAULT_DPI, without importing it
MIN_DPI, MAX_DPI = 30, 400


def _dpi(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not MIN_DPI <= value <= MAX_DPI:
        raise argparse.ArgumentTypeError(f"expected {MIN_DPI} to {MAX_DPI}, got {value}")
    return value


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("charts and HTML report")
    group.add_argument(
        "--png", metavar="DIR", help="write one PNG per chart into DIR (created if needed)"
    )
    group.add_argument(
        "--html", metavar="FILE", help="write a self-contained HTML report (no network, no script)"
    )
    group.add_argument(
        "--dpi",
        type=_dpi,
        default=DEFAULT_DPI,
        metavar="N",
        help=f"chart resolution: 16x9 inches at N dpi (default {DEFAULT_DPI}: 1600x900 pixels)",
    )


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    add_render_arguments(parser)
    parser.add_argument(
        "--save",
        metavar="FILE.json",
        help="save the result as JSON and its events beside it (FILE.events.parquet), "
        "for `gcscope report FILE.json` later",
    )


def check_paths(args: argparse.Namespace) -> None:
    """Refuse unusable output names before the (possibly long) analysis."""
    save = getattr(args, "save", None)
    if save is not None and not save.lower().endswith(".json"):
        raise UsageError(f"--save {save}: the file name must end in .json")
    png = getattr(args, "png", None)
    if png is not None and Path(png).exists() and not Path(png).is_dir():
        raise UsageError(f"--png {png}: exists and is not a directory")


def run_meta_into_result(result: Any, ingest: Any) -> None:
    """Copy the run metadata the report shows (CPUs, command line, host…) into each run of the
    result, where the analysis did not already put it, so a saved result carries it."""
    from gcscope import model

    metas = {int(m.get(model.RUN_ID, i)): m for i, m in enumerate(getattr(ingest, "runs", []))}
    for run in getattr(result, "runs", []):
        meta = metas.get(int(getattr(run, "run_id", 0))) or {}
        extra = getattr(run, "extra", None)
        if extra is None:
            continue
        known = {name for name in vars(run) if name != "extra"}
        for key in model.RUN_META_KEYS:
            value = meta.get(key)
            if key in known or key in extra or value is None:
                continue
            extra[key] = value.isoformat() if hasattr(value, "isoformat") else value


def save_result(path: str, result: Any, events: Any, samples: Any = None) -> list[Path]:
    """FILE.json and FILE.events.parquet (+ FILE.samples.parquet when there are samples)."""
    from gcscope.report.data import events_side_file, samples_side_file

    out = Path(path)
    written = [out, events_side_file(out)]
    try:
        out.write_text(result.to_json() + "\n", encoding="utf-8")
        events.write_parquet(written[1])
        if samples is not None and samples.height:
            samples.write_parquet(samples_side_file(out))
            written.append(samples_side_file(out))
    except OSError as exc:
        raise UsageError(
            f"cannot save the result: {exc.strerror or exc}", file=str(exc.filename or out)
        ) from None
    return written


def render_outputs(args: argparse.Namespace, data: Any) -> list[Path]:
    """Charts (--png) and the HTML page (--html) of a ReportData; returns the files written.
    Each chart is drawn once and used by both outputs."""
    if not (args.png or args.html):
        return []
    from gcscope.report.charts import render_charts, write_pngs
    from gcscope.report.html import write_html

    charts = render_charts(data, dpi=args.dpi) if data.events_available else []
    written: list[Path] = []
    if args.png:
        try:
            written += write_pngs(charts, args.png)
        except OSError as exc:
            raise UsageError(
                f"cannot write charts: {exc.strerror or exc}", file=str(exc.filename or args.png)
            ) from None
    if args.html:
        written.append(write_html(args.html, data, charts))
    return written


def after_analysis(args: argparse.Namespace, result: Any, ingest: Any) -> int | None:
    check_paths(args)
    run_meta_into_result(result, ingest)
    written: list[Path] = []
    samples = getattr(ingest, "samples", None)
    if args.save:
        written += save_result(args.save, result, ingest.events, samples)
    if args.png or args.html:
        from gcscope.report.data import ReportData

        logs = [str(log) for log in getattr(args, "logs", None) or []]
        source = ", ".join(logs) if logs else None
        as_dict = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        texts = {}
        if args.html and logs:  # the quoted evidence lines, shown with their text
            from gcscope.report.lines import line_texts, quoted_lines

            texts = line_texts(quoted_lines(as_dict), logs)
        data = ReportData.from_analysis(
            as_dict, ingest.events, samples, source=source, line_texts=texts
        )
        written += render_outputs(args, data)
    for path in written:
        print(f"gcscope: wrote {path}", file=sys.stderr)
    return None
