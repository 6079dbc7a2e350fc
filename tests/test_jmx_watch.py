"""`gcscope watch` and `gcscope histo` end to end, each in its own process (its own in-process
JVM, so JVM-start settings such as the RMI handshake timeout are those of the command line)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest

from gcscope import model
from gcscope.live.recording import read_recording
from tests import jmx_support
from tests.jmx_support import gcscope, gcscope_popen, start_target

pytestmark = pytest.mark.jvm
if jmx_support.JAVA is None or jmx_support.JAVAC is None:
    pytest.skip("needs java and javac", allow_module_level=True)


def wait_for_polls(record, count: int, timeout_s: float = 60) -> None:
    """Until the watch has recorded `count` polls: it connects only after starting Python and
    its in-process JVM, seconds on a busy machine."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if record.exists() and record.read_text().count('"rec":"poll"') >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"no {count} polls recorded in {timeout_s:g} s")


def test_port_that_accepts_and_never_answers_fails_within_the_connect_timeout():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts (the kernel completes the handshake) and never says a word
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        done = gcscope("watch", f"127.0.0.1:{port}", "--connect-timeout", "3s", timeout=60)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip() == (
        f"gcscope: error: 127.0.0.1:{port}: no answer within 3 s (the port accepts connections "
        "but does not answer as a JMX agent, or the target is frozen)"
    )
    assert elapsed < 12  # 3 s + starting Python and the in-process JVM
    assert "Traceback" not in done.stderr


def test_ssl_target_with_its_truststore_and_clear_messages_without(tmp_path):
    keystore, truststore = jmx_support.make_keystores(tmp_path)
    target = start_target(
        "-XX:+UseSerialGC", extra_jmx={"keystore": str(keystore), "keystore_password": "changeit"}
    )
    try:
        trusted = gcscope(
            "watch", target.address, "--ssl", "--truststore", str(truststore),
            # long enough for two polls when a busy machine makes each SSL call slow
            "--duration", "6s", "--interval", "0.5s", "--json",
            env={"GCSCOPE_TRUSTSTORE_PASSWORD": "changeit"}, timeout=120,
        )  # fmt: skip
        untrusted = gcscope(
            "watch", target.address, "--ssl", "--connect-timeout", "5s", timeout=120
        )
        plain = gcscope("watch", target.address, "--connect-timeout", "5s", timeout=120)
    finally:
        target.stop()
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["watch"]["polls"] >= 2
    assert "changeit" not in trusted.stdout + trusted.stderr
    assert untrusted.returncode == 4
    assert untrusted.stderr.strip() == (
        f"gcscope: error: cannot connect to {target.address}: SSL handshake failed (the target's "
        "certificate is not trusted: give its truststore with --truststore)"
    )
    assert plain.returncode == 4
    assert plain.stderr.strip() == (
        f"gcscope: error: cannot connect to {target.address}: something answers there, but not "
        "plain RMI: if the target's registry uses SSL "
        "(com.sun.management.jmxremote.registry.ssl=true) add --ssl"
    )


def test_missing_pid_exits_4_with_a_clear_message():
    done = gcscope("watch", "999999999", timeout=60)
    assert done.returncode == 4
    assert done.stderr.strip() == "gcscope: error: no process with PID 999999999"


def test_target_killed_mid_watch_keeps_the_recording(tmp_path):
    target = start_target("-XX:+UseSerialGC")
    record = tmp_path / "watch.jsonl"
    watch = gcscope_popen(
        "watch", target.address, "--duration", "9s", "--interval", "0.5s", "--record", str(record)
    )
    try:
        wait_for_polls(record, 3)  # connected and recording (Python and its JVM start first)
        target.stop()  # SIGKILL mid-watch
        out, err = watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 4, err  # lost and not back when the watch ended
    assert "target lost" in out and "the target was lost and is not back" in out
    replay = read_recording(record)
    assert replay.bad_lines == []
    polls = replay.samples[model.UPTIME_S].n_unique()
    assert polls >= 3
    assert [n["what"] for n in replay.notes][:1] == ["disconnected"]
    assert replay.runs[0]["pid"] == target.pid
    assert f"{polls} polls" in out  # everything polled is in the recording


def test_frozen_target_is_lost_after_the_call_timeout_and_found_again(tmp_path):
    """SIGSTOP: a poll never answers; our 10 s bound ends it (a lost target), and once the JVM
    runs again the watch reconnects to it: the same JVM, so the same run."""
    target = start_target("-XX:+UseSerialGC")
    record = tmp_path / "frozen.jsonl"
    watch = gcscope_popen(
        "watch", target.address, "--duration", "40s", "--interval", "0.5s", "--record", str(record)
    )
    try:
        wait_for_polls(record, 2)
        target.proc.send_signal(signal.SIGSTOP)
        time.sleep(16)  # the 10 s poll bound, then a reconnect attempt or two
        target.proc.send_signal(signal.SIGCONT)
        out, err = watch.communicate(timeout=90)
    finally:
        target.proc.send_signal(signal.SIGCONT)
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert watch.returncode == 0, err  # back before the end
    assert "target lost: 127.0.0.1" in out and "no answer within 10 s" in out
    assert "reconnected to the same JVM" in out
    replay = read_recording(record)
    assert len(replay.runs) == 1  # one JVM lifetime
    assert [n["what"] for n in replay.notes][:2] == ["disconnected", "reconnected"]


def test_restarted_target_is_reconnected_as_a_new_run(tmp_path):
    first = start_target("-XX:+UseSerialGC")
    record = tmp_path / "restart.jsonl"
    watch = gcscope_popen(
        "watch", first.address, "--duration", "20s", "--interval", "0.5s", "--record", str(record)
    )
    second = None
    try:
        wait_for_polls(record, 2)  # connected to the first JVM
        first.stop()
        time.sleep(1)
        second = start_target("-XX:+UseSerialGC", port=first.port)  # same port, new JVM
        out, err = watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
        if second is not None:
            second.stop()
    assert watch.returncode == 0, err  # the target was back when the watch ended
    assert "target lost" in out and f"a new JVM (run 1): pid {second.pid}" in out
    replay = read_recording(record)
    assert [r["pid"] for r in replay.runs] == [first.pid, second.pid]
    counts = replay.samples.group_by(model.RUN_ID).len().sort(model.RUN_ID)["len"].to_list()
    assert len(counts) == 2 and min(counts) > 0  # polls in both runs, timelines kept apart


def test_ctrl_c_loses_nothing_and_kill_9_at_most_one_interval(tmp_path):
    target = start_target("-XX:+UseG1GC")
    try:
        for sig in (signal.SIGINT, signal.SIGKILL):
            record = tmp_path / f"{sig.name}.jsonl"
            watch = gcscope_popen(
                "watch", target.address, "--interval", "0.5s", "--record", str(record)
            )
            try:
                deadline = time.monotonic() + 40
                while time.monotonic() < deadline:  # until it has recorded a few polls
                    if record.exists() and record.read_text().count('"rec":"poll"') >= 4:
                        break
                    time.sleep(0.1)
                polls_seen = record.read_text().count('"rec":"poll"')
                sent = time.monotonic()
                watch.send_signal(sig)
                out, err = watch.communicate(timeout=20)
                stopped_in = time.monotonic() - sent
            finally:
                if watch.poll() is None:
                    watch.kill()
            replay = read_recording(record)
            polls = replay.samples[model.UPTIME_S].n_unique()
            assert record.read_text().endswith("\n")
            if sig == signal.SIGINT:
                assert watch.returncode == 130, err
                assert stopped_in < 3
                assert "the recording is complete" in err
                assert f"{polls} polls" in out  # every poll made is in the file
                assert replay.bad_lines == []
            else:
                assert watch.returncode == -signal.SIGKILL
                assert polls >= polls_seen  # what was flushed before the kill is all there
    finally:
        target.stop()


def test_leaking_target_raises_the_old_gen_alert_and_a_heap_dump(tmp_path):
    # Serial, 64 MB heap (old gen ~43 MB), leaking 4 MB/s up to 40 MB: the old generation is
    # nearly full after every full GC within ~15 s, and the JVM does not die.
    target = start_target("-XX:+UseSerialGC", mode="leak", leak_kb_per_s=4096, leak_max_mb=40)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    alerts_file = tmp_path / "alerts.jsonl"
    record = tmp_path / "leak.jsonl"
    try:
        done = gcscope(
            "watch",
            target.address,
            "--duration",
            "30s",
            "--json",
            "--record",
            str(record),
            "--heap-dump-dir",
            str(dumps),
            "--on-alert",
            f"cat >> {alerts_file}; echo >> {alerts_file}",
            timeout=120,
        )
    finally:
        target.stop()
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    started = [a for a in summary["alerts"] if a["state"] == "started"]
    ids = {a["id"] for a in started}
    assert ids & {"GCS001", "GCS002"}, summary["alerts"]
    first = min(a[model.UPTIME_S] for a in started if a["id"] in ("GCS001", "GCS002"))
    assert first < 60
    assert "ALERT GCS002" in done.stderr or "ALERT GCS001" in done.stderr
    # the dump: reported, written, then removed by this test
    files = sorted(dumps.glob("gcscope-*.hprof"))
    assert len(files) == 1 and files[0].stat().st_size > 1_000_000
    assert summary["watch"]["heap_dumps"] == [str(files[0])]
    assert "heap dump written" in done.stderr
    for f in files:
        f.unlink()
    # --on-alert got the alert as JSON on stdin
    payloads = [json.loads(line) for line in alerts_file.read_text().splitlines() if line]
    assert {p["id"] for p in payloads} >= (ids & {"GCS001", "GCS002"})
    # the summary has analyze --json's shape plus pools
    (run,) = summary["runs"]
    assert run["collector"] == "Serial" and run["pauses"]["count"] > 0
    assert summary["pools"]["old"]["peak_used_bytes"] > 30 * 2**20
    assert summary["watch"]["gc_notifications"] == run["pauses"]["count"]
    # the recording analyses to the same pause count, in the same document shape
    analysed = gcscope("analyze", "--recording", str(record), "--json", timeout=120)
    assert analysed.returncode == 0, analysed.stderr
    doc = json.loads(analysed.stdout)
    assert doc["runs"][0]["pauses"]["count"] == run["pauses"]["count"]
    assert set(doc) <= set(summary) and set(doc["runs"][0]) == set(run)
    assert set(summary) - set(doc) == {"pools", "alerts", "watch"}
    for figures in summary["pools"].values():
        assert set(figures) == {
            "used_bytes", "committed_bytes", "max_bytes", "peak_used_bytes", "pools"
        }  # fmt: skip


def test_a_log_and_a_recording_of_the_same_jvm_share_one_timeline(tmp_path):
    """The MXBeans count uptime from when the JVM's management layer started, a little after
    the log's origin: the recording is shifted onto the log's timeline, every collection on
    its line in the log."""
    from types import SimpleNamespace

    import numpy as np

    from gcscope.ingest import read_events
    from gcscope.live.recording import ingest_with_recordings

    log, record = tmp_path / "gc.log", tmp_path / "same.jsonl"
    # a 4 MB young generation at 16 MB/s: several collections a second
    target = start_target("-XX:+UseSerialGC", "-Xmn4m", f"-Xlog:gc*:file={log}")
    try:
        done = gcscope(
            "watch", target.address, "--duration", "5s", "--interval", "0.5s",
            "--record", str(record), timeout=120,
        )  # fmt: skip
    finally:
        target.stop()
    assert done.returncode == 0, done.stderr
    ingest = ingest_with_recordings(
        SimpleNamespace(logs=[str(log)], recording=[str(record)]), lambda a: read_events(a.logs)
    )
    log_run, rec_run = ingest.runs
    assert rec_run["aligned_with_run"] == log_run[model.RUN_ID]
    assert 0.0 <= rec_run["uptime_offset_s"] < 5.0
    events = ingest.events
    log_t = np.sort(events.filter(events[model.RUN_ID] == 0)[model.UPTIME_S].to_numpy())
    rec = events.filter(
        (events[model.RUN_ID] == 1) & events[model.HEAP_AFTER_BYTES].is_not_null()
    )  # the notified collections (none filled in from counts at this rate)
    assert rec.height >= 10 and rec_run["aligned_collections"] == rec.height
    for t in rec[model.UPTIME_S].to_list():  # each on its own line of the log, within 10 ms
        assert np.min(np.abs(log_t - t)) <= 0.010, t
    analysed = gcscope("analyze", str(log), "--recording", str(record), "--json", timeout=120)
    assert analysed.returncode == 0, analysed.stderr
    runs = json.loads(analysed.stdout)["runs"]
    assert len(runs) == 2 and runs[1]["pauses"]["count"] == rec.height
    assert f"run 1 ({record}) is the JVM of run 0: {rec.height} collections line up" in (
        analysed.stderr
    )
    assert runs[0]["start_uptime_s"] <= runs[1]["start_uptime_s"] <= runs[0]["end_uptime_s"]


def test_hsperfdata_source_needs_no_jvm_and_counts_collections():
    target = start_target("-XX:+UseParallelGC", jmx=False)
    try:
        done = gcscope(
            "watch",
            str(target.pid),
            "--source",
            "hsperfdata",
            "--duration",
            "3s",
            "--interval",
            "0.5s",
            "--json",
            timeout=60,
        )
    finally:
        target.stop()
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["watch"]["source"] == "hsperfdata"
    assert {"eden", "survivor", "old", "metaspace"} <= set(summary["pools"])
    (run,) = summary["runs"]
    assert run["collector"] == "Parallel"
    # every young collection in the window, from the counters (16 MB/s into a ~16 MB eden)
    assert summary["watch"]["events_from_counts"] == run["pauses"]["count"] > 0


def test_histo_diff_ranks_the_leaking_class_first(tmp_path):
    # 4 MB/s of LeakedRecord: well above the noise of int[] fillers a live histogram counts
    target = start_target("-XX:+UseSerialGC", mode="leak", leak_kb_per_s=4096, heap="-Xmx256m")
    out = tmp_path / "histos"
    try:
        done = gcscope(
            "histo", target.address, "--every", "1s", "--count", "3", "--out", str(out), timeout=120
        )
        by_pid = gcscope("histo", str(target.pid), "--all", timeout=120)  # attach; no GC
    finally:
        target.stop()
    assert done.returncode == 0, done.stderr
    assert "live histogram: the target runs a full GC first" in done.stderr
    assert by_pid.returncode == 0, by_pid.stderr
    assert "--all histogram: no GC in the target, so unreachable garbage is counted too" in (
        by_pid.stderr
    )
    assert "JmxTarget$LeakedRecord" in by_pid.stdout and "Total" in by_pid.stdout
    files = sorted(out.glob("histo-*.txt"))
    assert len(files) == 3
    diff = gcscope("histo", "diff", *map(str, files), "--json", timeout=60)
    assert diff.returncode == 0, diff.stderr
    ranking = json.loads(diff.stdout)["classes"]
    assert ranking[0]["class"] == "JmxTarget$LeakedRecord"
    assert ranking[0]["grew_every_snapshot"] is True
    assert ranking[0]["bytes_growth"] > 4_000_000  # ~4 MB/s for ≥ 2 s
    # and the text form printed after the snapshots marks it
    first_row = next(line for line in done.stdout.splitlines() if "LeakedRecord" in line)
    assert first_row.startswith("*")


def test_prometheus_endpoint_serves_the_latest_poll_as_openmetrics():
    import re
    import urllib.request

    target = start_target("-XX:+UseParallelGC", jmx=False)
    port = jmx_support.free_port()
    watch = gcscope_popen(
        "watch",
        str(target.pid),
        "--source",
        "hsperfdata",
        "--duration",
        "6s",
        "--interval",
        "0.5s",
        "--prometheus",
        f"127.0.0.1:{port}",
    )
    try:
        text, deadline = "", time.monotonic() + 30
        while time.monotonic() < deadline and "gcscope_pool_used_bytes" not in text:
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    content_type = r.headers["Content-Type"]
                    text = r.read().decode()
            except OSError:
                continue
        watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")
    assert f'gcscope_up{{target="{target.pid}"}} 1' in text
    used = dict(re.findall(r'gcscope_pool_used_bytes\{pool="[^"]+",category="(\w+)"\} (\d+)', text))
    assert {"eden", "old", "metaspace"} <= set(used) and int(used["eden"]) > 0
    assert re.search(
        r'gcscope_gc_collections_total\{collector="Parallel young collection '
        r'pauses",category="pause"\} \d+',
        text,
    )


def _alert_lines(lines: list[str], rule: str) -> list[str]:
    """'ALERT'/'CLEARED' for each alert line of `rule`, in order (lines start with HH:MM:SS)."""
    out = []
    for line in lines:
        words = line.split()
        if len(words) >= 3 and words[1] in ("ALERT", "CLEARED") and words[2] == rule:
            out.append(words[1])
    return out


def test_an_alert_starts_and_clears_live_once_each_and_a_second_dump_waits_for_the_cooldown(
    tmp_path,
):
    """A real JVM fills its old generation (GCS002 starts: one ALERT line, one heap dump),
    releases it (one CLEARED line once the 4 s alert window has slid past), then fills it again
    within the cooldown: a second ALERT, and the dump is refused and reported."""
    target = jmx_support.start_old_gen_target("-XX:+UseSerialGC", "-Xms64m")
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    record = tmp_path / "cycle.jsonl"
    watch = gcscope_popen(
        "watch", target.address, "--interval", "0.5s", "--alert-window", "4s",
        "--record", str(record), "--heap-dump-dir", str(dumps), "--heap-dump-on", "GCS002",
        "--heap-dump-cooldown", "10m",
    )  # fmt: skip
    out = jmx_support.LineReader(watch.stdout)
    try:
        out.wait_for("watching 127.0.0.1", 60)
        started = time.monotonic()
        target.command("fill 36")  # ~85 % of the 42.7 MB old generation after a full GC
        first = out.wait_for("ALERT GCS002", 45)
        alert_in = time.monotonic() - started
        out.wait_for("heap dump written", 60, after=first)
        target.command("release")
        cleared = out.wait_for("CLEARED GCS002", 45, after=first)
        target.command("fill 36")
        second = out.wait_for("ALERT GCS002", 45, after=cleared)
        refused = out.wait_for("heap dump for GCS002 refused: cooldown", 15, after=second)
        target.command("release")
        out.wait_for("CLEARED GCS002", 45, after=second)
        watch.send_signal(signal.SIGINT)
        lines = out.rest(30)
        watch.wait(30)
    finally:
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert watch.returncode == 130, watch.stderr.read()
    assert alert_in < 45
    # once when it starts, once when it clears, for each breach: no repeats, no flapping
    assert _alert_lines(lines, "GCS002") == ["ALERT", "CLEARED", "ALERT", "CLEARED"]
    assert "less than 600 s ago (next allowed in" in lines[refused]
    files = sorted(dumps.glob("gcscope-*.hprof"))
    assert len(files) == 1 and files[0].stat().st_size > 1_000_000  # the first breach's only
    assert sum("heap dump written" in line for line in lines) == 1
    replay = read_recording(record)
    dump_notes = [(n["state"], n["rule"]) for n in replay.notes if n["what"] == "dump"]
    assert dump_notes == [("started", "GCS002"), ("written", "GCS002"), ("refused", "GCS002")]
    alert_notes = [(n["id"], n["state"]) for n in replay.notes if n["what"] == "alert"]
    assert [s for i, s in alert_notes if i == "GCS002"] == [
        "started", "cleared", "started", "cleared"
    ]  # fmt: skip
    for f in files:
        f.unlink()


def test_heap_dumps_stop_at_the_maximum_in_the_directory_and_none_is_deleted(tmp_path):
    """--heap-dump-max 2 in a directory that already holds one gcscope dump: the first breach
    writes the second, the next breach (cooldown long past) is refused; nothing is deleted."""
    target = jmx_support.start_old_gen_target("-XX:+UseSerialGC", "-Xms64m")
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    older = dumps / "gcscope-1-20250101T000000000000Z.hprof"
    older.write_bytes(b"evidence from an earlier watch")
    watch = gcscope_popen(
        "watch", target.address, "--interval", "0.5s", "--alert-window", "4s",
        "--heap-dump-dir", str(dumps), "--heap-dump-on", "GCS002", "--heap-dump-max", "2",
        "--heap-dump-cooldown", "1s",
    )  # fmt: skip
    out = jmx_support.LineReader(watch.stdout)
    try:
        out.wait_for("watching 127.0.0.1", 60)
        target.command("fill 36")
        first = out.wait_for("ALERT GCS002", 45)
        out.wait_for("heap dump written", 60, after=first)
        target.command("release")
        cleared = out.wait_for("CLEARED GCS002", 45, after=first)
        target.command("fill 36")
        second = out.wait_for("ALERT GCS002", 45, after=cleared)
        refused = out.wait_for("heap dump for GCS002 refused", 15, after=second)
        watch.send_signal(signal.SIGINT)
        lines = out.rest(30)
        watch.wait(30)
    finally:
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert watch.returncode == 130
    assert lines[refused].endswith(
        f"heap dump for GCS002 refused: 2 gcscope dumps already in {dumps} "
        "(--heap-dump-max 2); remove some to allow more"
    )
    files = sorted(dumps.glob("gcscope-*.hprof"))
    assert len(files) == 2 and files[0] == older
    assert older.read_bytes() == b"evidence from an earlier watch"  # never deleted or touched
    assert files[1].stat().st_size > 1_000_000
    assert sum("heap dump written" in line for line in lines) == 1
    files[1].unlink()


def test_wrong_password_through_the_cli_exits_4_with_a_clear_message_in_bounded_time(tmp_path):
    password_file = tmp_path / "jmx.password"
    password_file.write_text("monitor s3cret\n")
    password_file.chmod(0o600)  # the JVM refuses a password file others can read
    access_file = tmp_path / "jmx.access"
    access_file.write_text("monitor readonly\n")
    target = start_target(
        "-XX:+UseSerialGC",
        extra_jmx={
            "auth": True,
            "password_file": str(password_file),
            "access_file": str(access_file),
        },
    )
    wrong_file = tmp_path / "wrong.txt"
    wrong_file.write_text("not-the-password\n")
    right_file = tmp_path / "right.txt"
    right_file.write_text("s3cret\n")
    runs = {}
    try:
        for name, args, env in (
            ("file", ["--password-file", str(wrong_file)], None),
            ("env", ["--password-env", "GCSCOPE_TEST_PW"], {"GCSCOPE_TEST_PW": "not-the-password"}),
            ("none", [], None),
        ):
            user = [] if name == "none" else ["--user", "monitor"]
            started = time.monotonic()
            done = gcscope(
                "watch", target.address, *user, *args, "--duration", "2s", env=env, timeout=60,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            runs[name] = (done, time.monotonic() - started)
        good = gcscope(
            "watch", target.address, "--user", "monitor", "--password-file", str(right_file),
            "--duration", "1s", "--interval", "0.5s", "--json", timeout=60,
        )  # fmt: skip
    finally:
        target.stop()
    for name in ("file", "env"):
        done, elapsed = runs[name]
        assert done.returncode == 4, (name, done.stderr)
        assert done.stderr.strip() == (
            f"gcscope: error: cannot connect to {target.address}: authentication failed: "
            "invalid username or password"
        ), name
        assert "not-the-password" not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert elapsed < 30, (name, elapsed)  # one refused attempt: no retries, no hang
    done, elapsed = runs["none"]
    assert done.returncode == 4 and elapsed < 30
    assert done.stderr.strip() == (
        f"gcscope: error: cannot connect to {target.address}: the target requires a username "
        "and password (--user, with --password-env, --password-file or a prompt)"
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["watch"]["polls"] >= 1
    assert "s3cret" not in good.stdout + good.stderr


def _scrape(port: int) -> tuple[str, str]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


def _samples(text: str) -> dict[str, float]:
    """`name{labels}` → value, for every sample line (comments and # EOF left out)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_prometheus_endpoint_with_the_jmx_source_serves_real_polls_and_the_target_going(
    tmp_path,
):
    """--prometheus on a JMX watch: the MXBean names and categories, counters that only grow
    and equal what the watch recorded, no max for a pool without one, and gcscope_up 0 once
    the target is killed."""
    target = start_target("-XX:+UseG1GC")
    port = jmx_support.free_port()
    record = tmp_path / "prom.jsonl"
    watch = gcscope_popen(
        "watch", target.address, "--interval", "0.5s", "--duration", "60s",
        "--prometheus", f"127.0.0.1:{port}", "--record", str(record),
    )  # fmt: skip
    try:
        wait_for_polls(record, 2)
        content_type, first = _scrape(port)
        young = 'gcscope_gc_collections_total{collector="G1 Young Generation",category="pause"}'
        deadline = time.monotonic() + 30
        while True:  # until a young collection has been counted between two scrapes
            time.sleep(1.0)
            _, second = _scrape(port)
            if _samples(second)[young] > _samples(first)[young] or time.monotonic() > deadline:
                break
        target.stop()  # SIGKILL: the watch loses it
        deadline = time.monotonic() + 30
        while True:
            _, gone = _scrape(port)
            if f'gcscope_up{{target="{target.address}"}} 0' in gone or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        watch.send_signal(signal.SIGINT)
        watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    for text in (first, second, gone):
        assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    a, b = _samples(first), _samples(second)
    assert a[f'gcscope_up{{target="{target.address}"}}'] == 1
    for pool, category in (
        ("G1 Eden Space", "eden"),
        ("G1 Survivor Space", "survivor"),
        ("G1 Old Gen", "old"),
        ("Metaspace", "metaspace"),
    ):
        labels = f'{{pool="{pool}",category="{category}"}}'
        assert a[f"gcscope_pool_committed_bytes{labels}"] > 0 or category == "survivor"
        assert f"gcscope_pool_used_bytes{labels}" in a
    # G1 Eden and Metaspace report max = -1: no max sample rather than a false one
    assert not any(k.startswith('gcscope_pool_max_bytes{pool="G1 Eden Space"') for k in a)
    assert a['gcscope_pool_max_bytes{pool="G1 Old Gen",category="old"}'] > 0
    assert b[young] > a[young]  # counters only grow
    for key, value in a.items():
        if key.startswith(("gcscope_gc_collections_total", "gcscope_gc_time_seconds_total")):
            assert b[key] >= value, key
    assert b["gcscope_jvm_uptime_seconds"] > a["gcscope_jvm_uptime_seconds"]
    # the scraped figures are those of a poll the watch made and recorded
    replay = read_recording(record)
    counts = replay.collectors
    recorded = counts.filter(counts[model.COLLECTOR] == "G1 Young Generation")[
        model.COLLECTION_COUNT
    ].to_list()
    assert int(a[young]) in recorded and int(b[young]) in recorded
    assert f'gcscope_up{{target="{target.address}"}} 0' in gone


def test_notifications_lost_for_real_are_filled_in_from_the_counts_each_collection_once(tmp_path):
    """A storm of 300 collections while the client's listener is slowed (the test-only
    GCSCOPE_TEST_SLOW_LISTENER_MS: 100 ms a notification, as a stalled client) and the target
    buffers only 50 notifications (its jmx.remote.x.notification.buffer.size): the target says
    it lost some (`jmx.remote.connection.notifs.lost`), the watch says so, and every collection
    is in the recording exactly once — notified, or filled in from the collection counts."""
    buffer_size = 50
    target = jmx_support.start_old_gen_target(
        "-XX:+UseSerialGC", "-Xms16m", f"-Djmx.remote.x.notification.buffer.size={buffer_size}",
        heap="-Xmx16m",
    )  # fmt: skip
    record = tmp_path / "storm.jsonl"
    watch = gcscope_popen(
        "watch", target.address, "--interval", "0.5s", "--record", str(record), "--json",
        env={"GCSCOPE_TEST_SLOW_LISTENER_MS": "100"},
    )  # fmt: skip
    err = jmx_support.LineReader(watch.stderr)
    try:
        wait_for_polls(record, 2)  # the counts before the storm are known
        target.command("gcs 300", timeout_s=120)
        # what the target still buffers reaches the slow listener within buffer × 100 ms
        time.sleep(buffer_size * 0.1 + 2.0)
        watch.send_signal(signal.SIGINT)
        out, _ = watch.communicate(timeout=60)
        lines = err.rest(30)
    finally:
        if watch.poll() is None:
            watch.kill()
        target.stop()
    assert watch.returncode == 130
    summary = json.loads(out)
    info = summary["watch"]
    said = [line for line in lines if "the target dropped GC notifications (May have lost" in line]
    assert said, "\n".join(lines)
    assert info["notifications_lost"] > 0
    assert info["notifications_lost"] == sum(
        int(line.split("lost up to ")[1].split()[0]) for line in said
    )
    replay = read_recording(record)
    assert [g["lost"] for g in replay.gaps if g["collector"] is None] == [
        int(line.split("lost up to ")[1].split()[0]) for line in said
    ]
    events = replay.events.filter(replay.events[model.NAME] == "MarkSweepCompact")
    ids = events[model.GC_ID].to_list()
    assert len(ids) == len(set(ids))  # no collection twice (a late notification replaces)
    counts = replay.collectors.filter(replay.collectors[model.COLLECTOR] == "MarkSweepCompact")[
        model.COLLECTION_COUNT
    ].to_list()
    first, settled = counts[0], counts[-2]  # the last poll's collections may be unaccounted yet
    assert settled - first >= 300
    assert set(range(first + 1, settled + 1)) <= set(ids)  # every collection in the window
    assert events.filter(events[model.HEAP_AFTER_BYTES].is_null()).height > 0  # filled in
    assert info["events_from_counts"] + info["gc_notifications"] == replay.events.height
    (run,) = summary["runs"]
    assert run["pauses"]["count"] == replay.events.height  # analysed once each
    assert "Traceback" not in "\n".join(lines)
