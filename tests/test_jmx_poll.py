"""The poll's slow reads, against a scripted MBean server (no JVM): the code cache and compressed
class space and the uptime are read every SLOW_EVERY-th poll; in between the pools keep their
last read figures (marked stale, never recorded twice) and the uptime follows our clock."""

from __future__ import annotations

from gcscope import model
from gcscope.jmx import poll as poll_module
from gcscope.jmx.poll import SLOW_EVERY, PoolSet, poll
from gcscope.live.recording import Recorder, read_recording

MB = 2**20
OLD, CODE, CLASS = "G1 Old Gen", "CodeHeap 'profiled nmethods'", "Compressed Class Space"


class _Attr:
    def __init__(self, name, value):
        self._name, self._value = name, value

    def getName(self):  # the Java API
        return self._name

    def getValue(self):
        return self._value


class _List:
    def __init__(self, attrs):
        self._attrs = attrs

    def asList(self):
        return self._attrs

    def isEmpty(self):
        return not self._attrs

    def get(self, i):
        return self._attrs[i]


class _Usage:
    def __init__(self, used, committed, maximum):
        self._v = {"used": used, "committed": committed, "max": maximum}

    def getAll(self, keys):
        return [self._v[k] for k in keys]


class ScriptedServer:
    """Pool usage that changes on every read, an uptime that advances 1 s per poll."""

    def __init__(self):
        self.reads: dict[str, int] = {}
        self.uptime_ms = 5_000

    def getAttributes(self, name, attrs):
        self.reads[name] = self.reads.get(name, 0) + 1
        n = self.reads[name]
        if name == "runtime":
            return _List([_Attr("Uptime", self.uptime_ms)])
        if name == OLD:
            return _List([_Attr("Usage", _Usage(n * MB, 64 * MB, 256 * MB))])
        if name == CODE:  # grows, then shrinks (the code cache sweeper)
            used = (10 + n) * MB if n < 2 else 4 * MB
            return _List([_Attr("Usage", _Usage(used, 16 * MB, 48 * MB))])
        if name == CLASS:
            return _List([_Attr("Usage", _Usage(n * 100_000, 2 * MB, 1024 * MB))])
        return _List([_Attr("CollectionCount", n), _Attr("CollectionTime", 2 * n)])


class ScriptedConnection:
    def __init__(self, server):
        self.server = server

    def call_all(self, fns, timeout_s=None):
        return [fn() for fn in fns]


def polls_of(count: int, clock: list[float], monkeypatch):
    server = ScriptedServer()
    beans = PoolSet(
        pool_names=[OLD, CODE, CLASS],
        gc_names=["G1 Young Generation"],
        pool_objects=[OLD, CODE, CLASS],
        gc_objects=["G1 Young Generation"],
        runtime_object="runtime",
    )
    monkeypatch.setattr(poll_module.time, "monotonic", lambda: clock[0])
    out = []
    for _ in range(count):
        out.append(poll(ScriptedConnection(server), beans))
        clock[0] += 1.0
        server.uptime_ms += 1_000
    return out, server


def figures(polled, pool):
    (row,) = [r for r in polled.pools if r[model.POOL] == pool]
    return row[model.USED_BYTES], row[model.COMMITTED_BYTES], row[model.MAX_BYTES]


def test_slow_pools_are_read_every_tenth_poll_and_carried_over_meanwhile(monkeypatch):
    polls, server = polls_of(2 * SLOW_EVERY + 1, [100.0], monkeypatch)
    assert server.reads[OLD] == 2 * SLOW_EVERY + 1  # heap pools: every poll
    assert server.reads[CODE] == server.reads[CLASS] == server.reads["runtime"] == 3
    assert [sorted(p.stale_pools) for p in polls[: SLOW_EVERY + 1]] == (
        [[]] + [sorted([CLASS, CODE])] * (SLOW_EVERY - 1) + [[]]
    )
    # the code cache grew from the first read to... nothing seen until the next read
    assert {figures(p, CODE) for p in polls[:SLOW_EVERY]} == {(11 * MB, 16 * MB, 48 * MB)}
    # ...which shows it shrunk: the new figures at once, then carried over again
    assert {figures(p, CODE) for p in polls[SLOW_EVERY : 2 * SLOW_EVERY]} == {
        (4 * MB, 16 * MB, 48 * MB)
    }
    assert [figures(p, OLD)[0] for p in polls] == [n * MB for n in range(1, 2 * SLOW_EVERY + 2)]


def test_uptime_between_reads_follows_our_clock(monkeypatch):
    polls, _ = polls_of(SLOW_EVERY + 2, [100.0], monkeypatch)
    # read at 5 s, then estimated: 6, 7… s; read again at poll 10 (15 s): no jump either way
    assert [p.uptime_s for p in polls] == [5.0 + i for i in range(SLOW_EVERY + 2)]
    assert all(r[model.UPTIME_S] == p.uptime_s for p in polls for r in p.pools + p.collectors)


def test_a_new_connection_reads_everything_at_once(monkeypatch):
    polls_of(3, [100.0], monkeypatch)
    fresh, server = polls_of(1, [500.0], monkeypatch)  # a new PoolSet: a (re)connection
    assert fresh[0].stale_pools == frozenset() and server.reads["runtime"] == 1
    assert fresh[0].uptime_s == 5.0  # the new JVM's own uptime, not an estimate


def test_the_recording_holds_each_slow_pool_only_when_it_was_read(tmp_path, monkeypatch):
    polls, _ = polls_of(SLOW_EVERY + 1, [100.0], monkeypatch)
    path = tmp_path / "slow.jsonl"
    rec = Recorder(path)
    rec.start_run({"target": "x", "source": "jmx", "collector": "G1", "pid": 1})
    for polled in polls:
        rec.poll(polled)
    rec.close()
    samples = read_recording(path).samples
    per_pool = dict(samples.group_by(model.POOL).len().iter_rows())
    assert per_pool == {OLD: SLOW_EVERY + 1, CODE: 2, CLASS: 2}
    code = samples.filter(samples[model.POOL] == CODE)
    assert code[model.UPTIME_S].to_list() == [5.0, 5.0 + SLOW_EVERY]  # when each was read
    assert code[model.USED_BYTES].to_list() == [11 * MB, 4 * MB]
