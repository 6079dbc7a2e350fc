"""The HTML report and `gcscope report`: one self-contained page, escaped log text, findings and
the leak verdict when the result has them ("not evaluated" when it has not), and a saved result
rendered later without the log."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gcscope import cli
from gcscope.errors import ExitStatus
from gcscope.report.charts import render_charts
from gcscope.report.data import ReportData, events_side_file
from gcscope.report.html import render_html
from tests.test_report_charts import ROOT, SAMPLES, png_size

LEAK_LOG = SAMPLES / "g1-gcstar-leak.log"
HOSTILE = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"


class ResourceCollector(HTMLParser):
    """Every URL the page could load (src, href, srcset, url(...) in styles), and its tags."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_title = tag == "title"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action", "background"):
                self.urls.append(value or "")
            if name == "style" and value:
                self.urls += re.findall(r"url\(([^)]*)\)", value)

    def handle_endtag(self, tag):
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.urls += re.findall(r"url\(([^)]*)\)", data) if "url(" in data else []


def parse_page(page: str) -> ResourceCollector:
    collector = ResourceCollector()
    collector.feed(page)
    return collector


def assert_self_contained(page: str) -> ResourceCollector:
    """Nothing the page could load: every URL a data: image, no script, frame or link, the
    CSP that forbids the rest, and no http:// or https:// anywhere in it."""
    assert "http://" not in page and "https://" not in page
    parsed = parse_page(page)
    assert all(url.startswith("data:image/png;base64,") for url in parsed.urls), [
        url[:60] for url in parsed.urls if not url.startswith("data:")
    ]
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(parsed.tags)
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    return parsed


def hostile_log(tmp_path: Path) -> Path:
    """A real log whose log-derived text carries HTML: the hostname decoration holds a script
    (what a hostile host name would make unified logging write), one line the grammar does not
    know carries it in the message too, and the file name holds < and &."""
    source = SAMPLES / "g1-gcstar-time-uptimenanos-timemillis-hostname-tags.log"
    lines = source.read_text().splitlines(keepends=True)
    assert all("][vm][" in line for line in lines[:5])  # the hostname decoration is "vm"
    text = "".join(line.replace("][vm][", f"][{HOSTILE}][") for line in lines)
    stamp = lines[-1][: lines[-1].index("][vm][")]
    text += f"{stamp}][{HOSTILE}][gc] {HOSTILE} is not a GC line\n"
    log = tmp_path / "gc <b>&amp; x.log"
    log.write_text(text)
    return log


# --- a real log, end to end -----------------------------------------------------------------------
def test_html_report_is_one_self_contained_file_with_every_drawn_chart(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    pngs = tmp_path / "png"
    assert cli.main(["analyze", str(LEAK_LOG), "--html", str(html), "--png", str(pngs)]) == 0
    page = html.read_text(encoding="utf-8")
    parsed = assert_self_contained(page)
    images = [u for u in parsed.urls if u.startswith("data:image/png")]
    files = sorted(pngs.iterdir())
    assert len(images) == len(files) == 7
    # The page embeds exactly the PNG files --png wrote.
    embedded = {base64.b64decode(u.split(",", 1)[1]) for u in images}
    assert embedded == {p.read_bytes() for p in files}
    assert {png_size(data) for data in embedded} == {(1600, 900)}
    # Sections in the order an on-call engineer reads them.
    order = [
        page.index(f'id="{s}"') for s in ("verdict", "findings", "charts", "pauses", "run", "parse")
    ]
    assert order == sorted(order)
    assert len(page.encode()) < 5 * 1024 * 1024
    result = json.loads(_analyze_json(LEAK_LOG))
    run = result["runs"][0]
    # KPIs come from the result: the p99 pause and the pause count, as the page formats them.
    assert f"{run['pauses']['count']} pauses" in page
    assert "JVM version" in page and run["jvm_version"] in page
    assert "100.00 %" in page  # parse coverage of a log every line of which is known


def _analyze_json(log: Path) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["analyze", str(log), "--json"]) == 0
    return out.getvalue()


# What JDK 25 writes with -Xlog:arguments (recorded from a real 25.0.3 run: the flags line
# ends with a space), at the uptime it writes them, before the gc+init lines.
ARGUMENT_LINES = (
    "[0.002s][info][arguments] VM Arguments:\n"
    "[0.002s][info][arguments] jvm_args: -Xlog:gc*,arguments:file=gc.log -Xmx64m -XX:+UseG1GC \n"
    "[0.002s][info][arguments] java_command: BenchAlloc 30\n"
    "[0.002s][info][arguments] java_class_path (initial): .\n"
    "[0.002s][info][arguments] Launcher Type: SUN_STANDARD\n"
)
FLAGS = "-Xlog:gc*,arguments:file=gc.log -Xmx64m -XX:+UseG1GC"


def _meta_table(page: str) -> dict[str, str]:
    section = page[page.index('id="run"') : page.index('id="parse"')]
    rows = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", section, re.DOTALL)
    return {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in rows}


def test_cpus_and_flags_rows_appear_when_the_log_has_them(tmp_path: Path) -> None:
    """A JDK 25 `gc*` log with the `arguments` lines in front (what `-Xlog:gc*,arguments`
    writes): the CPUs row from "CPUs: 2 total, 2 available" and the flags row from
    "jvm_args: …", on the page made right after the analysis and on one made from the saved
    result; the log is still 100 % recognised."""
    source = ROOT / "sample_logs" / "jdk25" / "g1-gcstar.log"
    text = source.read_text()
    assert "CPUs: 2 total, 2 available" in text and "jvm_args" not in text
    log = tmp_path / "gc.log"
    log.write_text(ARGUMENT_LINES + text)
    html, saved = tmp_path / "r.html", tmp_path / "r.json"
    assert cli.main(["analyze", str(log), "--html", str(html), "--save", str(saved)]) == 0
    rows = _meta_table(html.read_text())
    assert rows["CPUs"] == "2"
    assert rows["Command-line flags"] == FLAGS
    result = json.loads(saved.read_text())
    assert result["runs"][0]["command_line"] == FLAGS
    assert result["parse"]["unknown_lines"] == 0
    again = tmp_path / "again.html"
    assert cli.main(["report", str(saved), "--html", str(again)]) == 0
    assert _meta_table(again.read_text())["Command-line flags"] == FLAGS


def test_a_log_without_flags_says_how_to_get_them(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    assert cli.main(["analyze", str(LEAK_LOG), "--html", str(html)]) == 0  # JDK 17, gc*
    rows = _meta_table(html.read_text())
    assert rows["CPUs"] == "2"
    assert rows["Command-line flags"].startswith("not in the log")
    assert "-Xlog:arguments" in rows["Command-line flags"]


def test_example_lines_carry_their_text_and_values_read_as_words(tmp_path: Path) -> None:
    """Right after the analysis the quoted lines are looked up in the log: GCS001's examples
    show `file:line  text`. Identifiers of the result (rising_floor, threshold keys) are
    words; rates have three significant figures."""
    html = tmp_path / "r.html"
    assert cli.main(["analyze", str(LEAK_LOG), "--html", str(html)]) == 0
    page = html.read_text()
    findings = page[page.index('id="findings"') : page.index('id="charts"')]
    line_551 = LEAK_LOG.read_text().splitlines()[550]
    assert html_escape(f"{LEAK_LOG}:551  {line_551}", quote=False) in findings
    assert "rising floor" in findings and "rising_floor" not in findings
    assert "min points 6" in findings and "min_points" not in findings
    assert "max p-value 0.01" in findings
    verdict = page[page.index('id="verdict"') : page.index('id="findings"')]
    assert re.search(r"<div class=\"value\">\d+(\.\d)? MB/s</div>", verdict)  # 96.9, not 96.87


def test_summary_only_log_lists_the_charts_it_cannot_draw(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    assert cli.main(["analyze", str(SAMPLES / "g1-gc.log"), "--html", str(html)]) == 0
    page = html.read_text()
    assert "Not drawn:" in page
    assert "Metaspace: the log has no metaspace figures" in page
    assert "Old Gen occupancy after GC: the log has no old-generation figures" in page
    assert page.count("<img ") == 5


def test_log_derived_text_is_escaped(tmp_path: Path) -> None:
    log = hostile_log(tmp_path)
    html = tmp_path / "r.html"
    assert cli.main(["analyze", str(log), "--html", str(html)]) == 0
    page = html.read_text()
    assert_self_contained(page)
    assert "<script" not in page and "<img src=x" not in page and 'onerror="' not in page
    escaped = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.replace('"', "&#34;").replace("'", "&#39;") in page  # shown, as text
    assert "gc &lt;b&gt;&amp;amp; x.log" in page  # the file name, in title and tables
    assert parse_page(page).title.startswith("gcscope report: ")


# --- findings and the leak verdict ----------------------------------------------------------------
def _real_report_data() -> ReportData:
    from gcscope.analysis import analyze_ingested
    from gcscope.ingest import read_events

    ingest = read_events([str(LEAK_LOG)])
    return ReportData(analyze_ingested(ingest).to_dict(), ingest.events, source=str(LEAK_LOG))


def test_findings_with_evidence_and_the_leak_verdict_are_shown() -> None:
    data = _real_report_data()
    result = dict(data.result)
    run = dict(result["runs"][0])
    run["leak"] = {
        "verdict": "leak",
        "shape": "rising_floor",
        "slope_pct_per_hour": 2711.2,
        "fit": {"slope_bytes_per_s": 758.0, "intercept_bytes": 25_000_000.0},
        "points": 76,
        "span_s": 37.0,
        "oom_eta_s": 49.6,
        "reason": "post-GC floor rising floor: +2711.2 % of max heap per hour",
        "evidence": {
            "points": {"uptime_s": [13.0, 50.0], "heap_after_bytes": [35e6, 63e6]},
            "lines": ["gc.log:120", "gc.log:560"],
        },
    }
    result["runs"] = [run]
    result["findings"] = [
        {
            "id": "GCS004",
            "severity": "warning",
            "title": "Long GC pause",
            "message": "3 pauses above 500 ms",
            "evidence": {
                "start_uptime_s": 12.5,
                "end_uptime_s": 48.0,
                "max_pause_ms": 812.0,
                "lines": [{"file": "gc.log", "line": 33, "text": "Pause Young (Normal) 812ms"}],
            },
        },
        {
            "id": "GCS001",
            "severity": "error",
            "title": "Memory leak: the heap floor after GC is rising",
            "message": "floor rising 2711 %/h",
            "evidence": {"slope_pct_per_hour": 2711.2},
        },
    ]
    page = render_html(ReportData(result, data.events, source=data.source))
    assert_self_contained(page)
    verdict = page[page.index('id="verdict"') : page.index('id="findings"')]
    assert "Unhealthy" in verdict and "Leak" in verdict and "OOM in ~49.6 s" in verdict
    assert "+2711.2 % of max heap/h" in verdict
    findings = page[page.index('id="findings"') : page.index('id="charts"')]
    # Errors first, each with its evidence.
    assert findings.index("GCS001") < findings.index("GCS004")
    assert "812 ms" in findings and "12.5 s – 48.0 s of uptime" in findings
    assert "gc.log:33  Pause Young (Normal) 812ms" in findings


def test_results_without_findings_or_leak_say_not_evaluated() -> None:
    data = _real_report_data()
    result = {k: v for k, v in data.result.items() if k not in ("findings", "config")}
    result["runs"] = [{**r, "leak": None} for r in result["runs"]]
    page = render_html(ReportData(result, data.events))
    assert "Not evaluated" in page
    assert "Metrics only" in page
    assert "Not evaluated: this result carries no findings" in page


def test_a_leak_verdict_draws_the_baseline_and_its_projection() -> None:
    data = _real_report_data()
    run = dict(data.result["runs"][0])
    run["leak"] = {
        "verdict": "leak",
        "slope_pct_per_hour": 2711.2,
        "oom_eta_s": 49.6,
        "fit": {"slope_bytes_per_s": 758.0, "intercept_bytes": 25_000_000.0},
        "evidence": {
            "points": {"uptime_s": [13.0, 30.0, 50.0], "heap_after_bytes": [35e6, 48e6, 63e6]}
        },
    }
    with_leak = ReportData({**data.result, "runs": [run]}, data.events)
    from gcscope.report.charts.heap import heap_chart

    fig = heap_chart(next(with_leak.runs()), dpi=30)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "post-GC baseline" in labels and "projection to max heap" in labels
    assert any(label.startswith("baseline trend (+2711.2 %") for label in labels)
    # The x axis reaches the projected OOM: end of run + 49.6 s.
    assert fig.axes[0].get_xlim()[1] >= run["end_uptime_s"] + 49.6
    no_leak = ReportData({**data.result, "runs": [{**run, "leak": None}]}, data.events)
    plain = heap_chart(next(no_leak.runs()), dpi=30)
    assert "projection to max heap" not in plain.axes[0].get_legend_handles_labels()[1]
    # No verdict, no line: the points are shown, the fit is not.
    undecided = {**run["leak"], "verdict": "insufficient_evidence", "oom_eta_s": None}
    data_undecided = ReportData({**data.result, "runs": [{**run, "leak": undecided}]}, data.events)
    labels = heap_chart(next(data_undecided.runs()), dpi=30).axes[0].get_legend_handles_labels()[1]
    assert "post-GC baseline (too little for a verdict)" in labels
    assert not any(label.startswith("baseline trend") for label in labels)


# --- saved results: `analyze --save`, then `gcscope report` -----------------------------------
def test_report_renders_a_saved_result_without_the_log(tmp_path: Path, capsys) -> None:
    log = tmp_path / "gc.log"
    shutil.copy(SAMPLES / "parallel-gcstar-leak.log", log)
    saved = tmp_path / "saved" / "result.json"
    saved.parent.mkdir()
    first = tmp_path / "first"
    assert cli.main(["analyze", str(log), "--save", str(saved), "--png", str(first)]) == 0
    assert events_side_file(saved).name == "result.events.parquet"
    assert events_side_file(saved).exists()
    log.unlink()  # the report must not need it
    second, html = tmp_path / "second", tmp_path / "r.html"
    assert cli.main(["report", str(saved), "--png", str(second), "--html", str(html)]) == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == 6
    for name in names:  # drawn from the same data, the charts are the same pixels
        assert (first / name).read_bytes() == (second / name).read_bytes()
    page = html.read_text()
    assert_self_contained(page)
    assert "Parallel" in page and page.count("<img ") == 6
    assert "wrote" in capsys.readouterr().err


def test_report_without_the_events_file(tmp_path: Path, capsys) -> None:
    saved = tmp_path / "r.json"
    assert cli.main(["analyze", str(SAMPLES / "serial-gcstar-leak.log"), "--save", str(saved)]) == 0
    events_side_file(saved).unlink()
    capsys.readouterr()
    # HTML still renders (KPIs, tables) and says why there are no charts ...
    assert cli.main(["report", str(saved), "--html", str(tmp_path / "r.html")]) == 0
    assert "r.events.parquet: not found" in capsys.readouterr().err
    page = (tmp_path / "r.html").read_text()
    assert "Charts unavailable" in page and "<img " not in page
    # ... but PNGs cannot be drawn: the input is missing.
    status = cli.main(["report", str(saved), "--png", str(tmp_path / "p")])
    assert status == ExitStatus.INPUT_UNREADABLE
    assert "r.events.parquet: not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"a": 1}', "no 'runs' key"),
    ],
)
def test_report_of_a_bad_result_file_names_it(tmp_path: Path, capsys, content, message) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert cli.main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == 3
    err = capsys.readouterr().err
    assert str(bad) in err and message in err and "Traceback" not in err


def test_report_needs_an_output(tmp_path: Path, capsys) -> None:
    assert cli.main(["report", str(tmp_path / "r.json")]) == ExitStatus.USAGE
    assert "--html" in capsys.readouterr().err


def test_report_data_round_trips_through_json(tmp_path: Path) -> None:
    data = _real_report_data()
    saved = tmp_path / "x.json"
    saved.write_text(json.dumps(data.result))
    data.events.write_parquet(events_side_file(saved))
    loaded = ReportData.load(saved)
    assert loaded.events.equals(data.events)
    a = [c.png for c in render_charts(data, dpi=30, names=["heap", "rates"])]
    b = [c.png for c in render_charts(loaded, dpi=30, names=["heap", "rates"])]
    assert a == b and all(a)
