"""Batches that hold up: a stuck target settles alone (the healthy ones
settle ok beside it), a dead node is skipped with --keep-going, SIGINT
leaves a summary and complete audit records, a failing canary stops the
batch, identical results are grouped."""
import json
import os
import re
import select
import signal
import subprocess
import time

import pytest

import nodes
from cli_helpers import skyctl_at, write

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

FIX = "_P.lua.CMD.touched = true\n"


@pytest.fixture
def loopy(backend):
    n = nodes.Node(backend, agents=3, services=("loopy",)).start(timeout=30)
    yield n
    n.stop()


def spin(node):
    """.loopy spinning from a connection of its own; returns the console"""
    con = nodes.Console(node.port)
    con.banner()
    assert con.cmd('call .loopy "count"')[1] == "OK"
    con.send('call .loopy "spin"\n')
    node.wait_log("loopy: spinning")
    return con


def audit_records(state):
    with open(state / "skyctl" / "audit.log") as f:
        return [json.loads(l) for l in f if l.strip()]


def test_a_stuck_target_settles_alone(loopy, tmp_path, state):
    con = spin(loopy)
    try:
        fix = write(tmp_path, "fix.lua", FIX)
        r = skyctl_at(state, "inject", "--keep-going", "--timeout", "2", "@agent,@loopy", fix,
                      node=loopy)
        assert r.returncode == 4, (r.returncode, r.stdout, r.stderr)
        lines = r.stdout.splitlines()
        oks = [l for l in lines if re.search(r"\sok\s+patch #1, 1 change$", l)]
        unknown = [l for l in lines if re.search(r"\sunknown\s+no answer within", l)]
        assert len(oks) == 3 and len(unknown) == 1, r.stdout
        assert re.search(r"inject: 3 ok, 0 failed, 1 unknown", r.stdout), r.stdout
    finally:
        con.close()


def test_keep_going_skips_a_dead_node(backend, tmp_path, state):
    live = nodes.Node(backend).start()
    try:
        dead_port = nodes.free_port()
        conf = tmp_path / "nodes.lua"
        conf.write_text('nodes = {\n  live = "%s",\n  dead = "127.0.0.1:%d",\n}\n'
                        % (live.address, dead_port))
        fix = write(tmp_path, "fix.lua", FIX)
        r = skyctl_at(state, "--config", str(conf), "-a", "inject", "--keep-going", "*/@agent",
                      fix)
        assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
        assert len(re.findall(r"^live/:\w+\s+ok\s+patch #1", r.stdout, re.M)) == 3, r.stdout
        assert re.search(r"dead.*[Cc]onnection refused", r.stderr), r.stderr
        assert "(3 targets on 1 node, 1 node skipped, " in r.stdout, r.stdout
        # without --keep-going nothing is sent anywhere
        r = skyctl_at(state, "--config", str(conf), "-a", "inject", "*/@agent", fix)
        assert r.returncode == 3 and "ok" not in r.stdout, (r.stdout, r.stderr)
    finally:
        live.stop()


def test_a_read_only_batch_with_no_node_ready_is_its_error_alone(backend, tmp_path, state):
    """diff and patches keep going past a node that fails; where none is
    left there is no batch: the node's error and its exit code, no summary
    of nothing"""
    node = nodes.Node(backend).start()
    try:
        fix = write(tmp_path, "fix.lua", FIX)
        for args in (["diff", ".nosuch", fix], ["patches", ".nosuch"]):
            r = skyctl_at(state, *args, node=node)
            assert r.returncode == 1, (args, r.returncode, r.stdout, r.stderr)
            assert r.stdout == "", (args, r.stdout)
            assert re.fullmatch(r"skyctl: [\d.:]+: %s: no service is registered as \.nosuch\b.*\n"
                                % args[0], r.stderr), (args, r.stderr)
    finally:
        node.stop()


def wait_pending(state, n, timeout=10):
    """wait until the audit log holds n "pending" records"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sum(r.get("result") == "pending" for r in audit_records(state)) >= n:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError("no pending records")


def read_line(f, timeout):
    """a line from the pipe f, waiting at most timeout seconds"""
    ready, _, _ = select.select([f], [], [], timeout)
    return f.readline() if ready else ""


def interrupted_inject(node, tmp_path, state, timeout):
    """start inject into the agents and the spinning .loopy; once all is
    in flight (audited pending), interrupt it; returns the process"""
    fix = write(tmp_path, "fix.lua", FIX)
    env = dict(os.environ, XDG_STATE_HOME=str(state), NO_COLOR="1")
    p = subprocess.Popen([nodes.SKYCTL, "-H", node.address, "inject", "--keep-going",
                          "--timeout", timeout, "@agent,@loopy", fix],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_pending(state, 4)
    p.send_signal(signal.SIGINT)
    return p


def test_sigint_waits_for_flight_and_records_every_outcome(loopy, tmp_path, state):
    con = spin(loopy)
    try:
        p = interrupted_inject(loopy, tmp_path, state, "3")
        out, err = p.communicate(timeout=20)
        assert p.returncode == 130, (p.returncode, out, err)
        assert re.search(r"inject: 3 ok, 0 failed, 1 unknown", out), out
        assert "interrupted" in err
        recs = audit_records(state)
        pending = {r["target"] for r in recs if r["result"] == "pending"}
        settled = {r["target"] for r in recs if r["result"] != "pending"}
        assert len(pending) == 4 and pending == settled, recs
    finally:
        con.close()


def test_second_sigint_exits_at_once_recording_interrupted(loopy, tmp_path, state):
    con = spin(loopy)
    try:
        p = interrupted_inject(loopy, tmp_path, state, "30")
        first = read_line(p.stderr, 10)      # two at once would be one signal
        assert "interrupt again to leave now" in first, first
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)     # not the 30 s the hub would wait
        assert p.returncode == 130, (p.returncode, out, err)
        recs = audit_records(state)
        results = [r["result"] for r in recs if r["result"] != "pending"]
        assert len(results) == 4 and all("interrupted" in r for r in results), recs
        assert re.search(r"inject: 0 ok, 0 failed, 4 unknown", out), out
    finally:
        con.close()


FAIL_ON_B = """local skynet = require "skynet"
if skynet.self() & 0xffffff == 0xb then error("no luck in :b") end
_P.lua.CMD.touched = true
"""

# a patch that kills its service a moment later: fine at first, gone soon
DIES_LATER = """local skynet = require "skynet"
skynet.timeout(20, function() skynet.exit() end)
"""


def test_canaries_per_node_marked(backend, tmp_path, state):
    pair = [nodes.Node(backend).start(), nodes.Node(backend).start()]
    try:
        conf = nodes.node_file(tmp_path / "nodes.lua", pair)
        fix = write(tmp_path, "fix.lua", FIX)
        r = skyctl_at(state, "--config", str(conf), "-a", "inject", "--canary", "1",
                      "*/@agent", fix)
        assert r.returncode == 0, (r.stdout, r.stderr)
        canaries = [l for l in r.stdout.splitlines() if l.endswith("[canary]")]
        assert sorted(l.split("/")[0] for l in canaries) == ["n1", "n2"], r.stdout
        assert "6 ok" in r.stdout
        r = skyctl_at(state, "--config", str(conf), "-a", "inject", "--canary", "50%",
                      "--json", "*/@agent", fix)
        doc = json.loads(r.stdout)
        assert sum(bool(t.get("canary")) for t in doc["targets"]) == 4, r.stdout
    finally:
        for n in pair:
            n.stop()


def test_a_failing_canary_stops_the_batch(node, tmp_path, state):
    fail = write(tmp_path, "fail.lua", FAIL_ON_B)
    r = skyctl_at(state, "inject", "--canary", "2", "--keep-going", "@agent", fail, node=node)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r"^:0000000b\s+failed\s+.*no luck in :b.*\[canary\]$", r.stdout, re.M), \
        r.stdout
    assert "1 ok, 1 failed, 0 unknown, 1 skipped" in r.stdout
    assert "a canary failed: the batch stopped; 1 target not sent" in r.stderr


def test_a_canary_that_stops_answering_stops_the_batch(node, tmp_path, state):
    dies = write(tmp_path, "dies.lua", DIES_LATER)
    r = skyctl_at(state, "inject", "--canary", "1", "--canary-wait", "3", "@agent", dies,
                  node=node)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r"canary :0000000a stopped answering during --canary-wait", r.stderr), \
        r.stderr
    assert "1 ok, 0 failed, 0 unknown, 2 skipped" in r.stdout


def test_canary_usage(node, tmp_path, state):
    fix = write(tmp_path, "fix.lua", FIX)
    for bad in (["--canary", "0"], ["--canary", "x%"], ["--canary-wait", "1"]):
        r = skyctl_at(state, "inject", *bad, ":a", fix, node=node)
        assert r.returncode == 2 and "--canary" in r.stderr, (bad, r.stderr)


def test_big_batches_group_and_failures_only(backend, tmp_path, state):
    n = nodes.Node(backend, agents=40).start(timeout=30)
    try:
        fix = write(tmp_path, "fix.lua", FIX)
        r = skyctl_at(state, "inject", "@agent", fix, node=n)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert len(lines) == 2, r.stdout        # one group, the summary
        assert re.match(r"^:\w+(, :\w+){5} and 34 more  ok\s+patch #1, 1 change$", lines[0]), \
            lines[0]
        fail = write(tmp_path, "fail.lua", FAIL_ON_B)
        r = skyctl_at(state, "inject", "--keep-going", "--failures", "@agent", fail, node=n)
        assert r.returncode == 1, r.stderr
        lines = r.stdout.splitlines()
        assert len(lines) == 2 and re.match(r"^:0000000b\s+failed\s.*no luck", lines[0]), \
            r.stdout
        assert "inject: 39 ok, 1 failed" in lines[1]
        recs = [x for x in audit_records(state) if x["result"].startswith("ok")]
        assert len(recs) == 40 + 39
    finally:
        n.stop()


def test_a_thousand_targets_in_one_request(backend, tmp_path, state):
    """a node's 1000 targets go in one request: its reply (1000 services'
    results, about 7 bytes a value) is read whole, then their journals"""
    n = nodes.Node(backend, agents=1000).start(timeout=60)
    try:
        fix = write(tmp_path, "fix.lua", FIX)
        r = skyctl_at(state, "inject", "@agent", fix, node=n, timeout=120)
        assert r.returncode == 0 and "inject: 1000 ok, 0 failed" in r.stdout, \
            r.stdout[-500:] + r.stderr
        r = skyctl_at(state, "patches", "@agent", node=n, timeout=120)
        assert r.returncode == 0 and "patches: 1000 services, 1 patch in place, 0 drifting" \
            in r.stdout + r.stderr, r.stdout[-500:] + r.stderr
    finally:
        n.stop()


# spins until the time given (whole seconds) in the service named, else
# patches at once
BUSY = """local skynet = require "skynet"
local stop, who = ...
if skynet.address(skynet.self()) == who then
    while os.time() < tonumber(stop) do end
end
_P.lua.CMD.touched = true
"""


def test_unknowns_are_checked_against_their_journals(backend, tmp_path, state):
    """a target busy past the hub's deadline ends unknown, then its journal
    (asked once it answers) says it was patched: it settles ok, exit 0.
    The busy one is the second agent, not the hub (whose own target runs
    first and alone), busy 4-5 s: past the hub's answer (0.75 of the 4 s
    timeout), and done well within the check's 4 s after it"""
    with nodes.Node(backend, agents=2).start(timeout=30) as node:
        busy = write(tmp_path, "busy.lua", BUSY)
        stop = str(int(time.time()) + 5)
        r = skyctl_at(state, "inject", "--timeout", "4", "@agent", busy, "--", stop,
                      ":0000000b", node=node)
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        assert re.search(r"^:0000000a\s+ok\s+patch #1", r.stdout, re.M), r.stdout
        assert re.search(r"^:0000000b\s+ok\s.*; its journal has this batch \(#1\): done$",
                         r.stdout, re.M), r.stdout
        assert re.search(r"inject: 2 ok, 0 failed, 0 unknown", r.stdout), r.stdout
        recs = [x for x in audit_records(state) if x.get("op") == "inject"]
        assert sum("its journal has this batch" in json.dumps(x) for x in recs) == 1, recs


SLOW = """local skynet = require "skynet"
skynet.sleep(30)
_P.lua.CMD.touched = true
"""


def test_a_hub_that_fails_mid_request_is_not_replaced_by_sending_again(node, tmp_path, state):
    # the first target's script exits its service: the request may have run
    # (here it did), so it is not sent again through the next service (the
    # batch's targets would run it twice); they end unknown, checked
    exit_script = write(tmp_path, "exit.lua", 'require("skynet").exit()\n')
    r = skyctl_at(state, "inject", ":a,:b", exit_script, node=node)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    failed = "%s: :0000000a failed while running the request (it exited, or skyctl's " \
        "agent in it failed)" % node.address
    assert lines[0] == ":0000000a  unknown %s: may or may not be patched" % failed, lines
    assert lines[1] == (":0000000b  unknown %s; its journal had nothing of this batch when "
                        "checked: may or may not be patched" % failed), lines
    listed = skyctl_at(state, "list", node=node).stdout
    assert "snlua agent 1" not in listed and "snlua agent 2" in listed, listed


def test_progress_on_a_terminal_only(backend, tmp_path, state):
    """a batch longer than a second draws one progress line on a terminal's
    stderr, and takes it off before the summary; a pipe gets none"""
    import pexpect
    with nodes.Node(backend, agents=40).start(timeout=30) as node:
        slow = write(tmp_path, "slow.lua", SLOW)
        env = dict(os.environ, XDG_STATE_HOME=str(state), NO_COLOR="1")
        c = pexpect.spawn(nodes.SKYCTL, ["-H", node.address, "inject", "@agent", slow],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
        c.expect(r"\rinject: \d+/40 settled, \d+ ok, 0 failed, 0 unknown\x1b\[K")
        c.expect(r"\r\x1b\[K")                          # taken off before the results
        c.expect(r"inject: 40 ok, 0 failed, 0 unknown")
        assert "settled" not in c.before
        c.expect(pexpect.EOF)
        c.close()
        assert c.exitstatus == 0
        slow2 = write(tmp_path, "slow2.lua", SLOW + "-- again\n")
        r = skyctl_at(state, "inject", "@agent", slow2, node=node)
        assert r.returncode == 0 and "40 ok" in r.stdout, r.stdout + r.stderr
        assert r.stderr == "", r.stderr
