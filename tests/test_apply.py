"""`skyctl apply DIR [TARGET]`: versioned patch sets, against the `node`
fixture (sandbox, and real skynet when SKYNET_ROOT is set).  A set of
patches converges a group of services; a second run changes nothing (the
services answer as before); a service started afterwards gets the whole
set, also under --follow; a patch a service carries beyond the set is
reported and --prune rolls it back; a failing patch in the middle leaves
every service at a clean prefix, and the report says so."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import nodes
from cli_helpers import skyctl_at, write
from inject_client import journal

DOUBLE = """local balance   -- joined to the service's own by hotfix.replace
hotfix.replace(_P.lua.CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
print("deposits count double")
"""
VERSION = '_P.lua.CMD.version = function() return "v2" end\n'
BROKEN = '_P.lua.CMD.deposit = nil\nerror("half-way")\n'
EXTRA = '_P.lua.CMD.extra = function() return "extra" end\n'


def patch_set(tmp_path, name, *scripts, version=None):
    """a patch set dir: scripts as 001-x.lua, 002-y.lua... from (name, text)"""
    d = tmp_path / name
    d.mkdir()
    for i, (n, text) in enumerate(scripts, 1):
        (d / ("%03d-%s.lua" % (i, n))).write_text(text)
    if version:
        (d / "VERSION").write_text(version + "\n")
    return str(d)


def call(state, node, target, args):
    r = skyctl_at(state, "call", target, args, node=node)
    assert r.returncode == 0, r.stderr
    return r.stdout.split("\t")[1].split("\n")[0]


def applied(node, hexaddr):
    """the names of the patches in place in a service, in journal order"""
    return [e["name"] for e in journal(node, hexaddr)
            if e["kind"] == "apply" and e["state"] == "applied"]


def test_set_converges_then_second_run_is_a_no_op(node, tmp_path, state):
    d = patch_set(tmp_path, "v2", ("double", DOUBLE), ("version", VERSION), version="v2")
    r = skyctl_at(state, "apply", d, "@agent", node=node)
    assert r.returncode == 0, r.stderr
    for h in "abc":
        assert re.search(r"^:0000000%s  ok +holds set v2 \(2 of 2\): applied 2$" % h,
                         r.stdout, re.M), r.stdout
        assert applied(node, h) == ["001-double.lua", "002-version.lua"]
    assert "+ #1 001-double.lua, 1 change\n      | deposits count double" in r.stdout
    assert "apply: set v2 (2 patches): 3 hold it, 0 conflict, 0 failed, 0 unknown, " \
        "0 skipped (3 targets on 1 node" in r.stdout
    assert call(state, node, ":a", '"deposit", 5') == "10"
    assert call(state, node, ":a", '"version"') == "v2"
    before = journal(node, "a")
    again = skyctl_at(state, "apply", d, "@agent", node=node)
    assert again.returncode == 0, again.stderr
    assert re.findall(r"^:0000000[abc]  ok +holds set v2 \(2 of 2\): nothing changed$",
                      again.stdout, re.M) == [":0000000%s  ok       holds set v2 (2 of 2): "
                                              "nothing changed" % h for h in "abc"], again.stdout
    assert journal(node, "a") == before
    assert call(state, node, ":a", '"balance"') == "10"
    assert call(state, node, ":a", '"deposit", 1') == "12"
    # patches: each service's set and how far it got
    p = skyctl_at(state, "patches", "@agent", node=node)
    assert p.returncode == 0, p.stderr
    rows = [l.split("\t") for l in p.stdout.splitlines() if not l.startswith("# ")]
    assert [x[-2] for x in rows] == ["v2 2/2"] * 3, p.stdout
    one = skyctl_at(state, "patches", ":a", node=node)
    assert one.stdout.startswith("# set\tv2 2/2\n"), one.stdout
    # the audit log has a record per script, before and after
    log = (state / "skyctl" / "audit.log").read_text().splitlines()
    recs = [json.loads(l) for l in log]
    done = [x for x in recs if x["op"] == "apply" and x["result"] != "pending"]
    assert {x["script"].rsplit("/", 1)[1] for x in done} == {"001-double.lua",
                                                              "002-version.lua"}


def test_a_service_started_afterwards_gets_the_whole_set(node, tmp_path, state):
    d = patch_set(tmp_path, "set", ("double", DOUBLE), ("version", VERSION))
    assert skyctl_at(state, "apply", d, "@agent", node=node).returncode == 0
    out = skyctl_at(state, "start", "agent", "late", node=node).stdout
    late = out.split("\t")[0]
    r = skyctl_at(state, "apply", d, "@agent", node=node)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^%s  ok +holds set [0-9a-f]{12} \(2 of 2\): applied 2$" % late,
                     r.stdout, re.M), r.stdout
    assert len(re.findall(r"^:0000000[abc]  ok +.*nothing changed$", r.stdout, re.M)) == 3, \
        r.stdout
    assert call(state, node, late, '"deposit", 3') == "6"


class Lines(list):
    """the lines of a stream, filled by a thread as they come (reader)"""


def lines_of(stream):
    out = Lines()
    out.reader = threading.Thread(target=lambda: out.extend(iter(stream.readline, "")),
                                  daemon=True)
    out.reader.start()
    return out


def wait_for(lines, text, p, timeout=30):
    deadline = time.monotonic() + timeout
    while not any(text in l for l in lines):
        assert time.monotonic() < deadline and p.poll() is None, "".join(lines)
        time.sleep(0.05)


def test_follow_converges_a_service_that_appears(node, tmp_path, state):
    d = patch_set(tmp_path, "set", ("double", DOUBLE), ("version", VERSION))
    env = dict(os.environ, XDG_STATE_HOME=str(state), NO_COLOR="1")
    p = subprocess.Popen([nodes.SKYCTL, "-H", node.address, "apply", d, "@agent",
                          "--follow", "120"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = lines_of(p.stdout), lines_of(p.stderr)
        wait_for(err, "following new services for 120 s", p)    # the first round is done
        late = skyctl_at(state, "start", "agent", "late", node=node).stdout.split("\t")[0]
        wait_for(out, late, p)      # each round's report is flushed as it ends
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
    for lines in (out, err):        # the last lines may still be on their way
        lines.reader.join(timeout=10)
    out, err = "".join(out), "".join(err)
    assert p.returncode == 0, err
    assert re.search(r"^%s  ok +holds set \S+ \(2 of 2\): applied 2$" % late, out, re.M), out
    assert "stopped following (signal)" in err
    assert applied(node, late[1:].lstrip("0")) == ["001-double.lua", "002-version.lua"]
    assert call(state, node, late, '"version"') == "v2"


def test_an_extra_patch_is_reported_and_prune_removes_it(node, tmp_path, state):
    d = patch_set(tmp_path, "set", ("double", DOUBLE), ("version", VERSION), version="7")
    extra = write(tmp_path, "extra.lua", EXTRA)
    assert skyctl_at(state, "apply", d, "@agent", node=node).returncode == 0
    assert skyctl_at(state, "inject", ":b", extra, node=node).returncode == 0
    r = skyctl_at(state, "apply", d, "@agent", node=node)
    assert r.returncode == 0, r.stderr      # :b holds the set, and more
    assert "  ! carries patches not in the set: #3 extra.lua (--prune rolls them back)" \
        in r.stdout, r.stdout
    p = skyctl_at(state, "patches", ":b", node=node)
    assert "extra.lua" in p.stdout
    r = skyctl_at(state, "apply", "--prune", d, "@agent", node=node)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^:0000000b  ok +holds set 7 \(2 of 2\): nothing changed\n"
                     r"    - rolled back #3 extra.lua \(1 restored\)\n"
                     r"    ! carries patches not in the set", r.stdout, re.M) is None
    assert re.search(r"^:0000000b  ok +holds set 7 \(2 of 2\): nothing changed\n"
                     r"    - rolled back #3 extra.lua \(1 restored\)$", r.stdout, re.M), r.stdout
    assert applied(node, "b") == ["001-double.lua", "002-version.lua"]
    c = skyctl_at(state, "call", ":b", '"extra"', node=node)
    assert c.returncode != 0
    assert call(state, node, ":b", '"deposit", 2') == "4"


def test_a_failing_patch_in_the_middle_leaves_a_clean_prefix(node, tmp_path, state):
    d = patch_set(tmp_path, "bad", ("double", DOUBLE), ("broken", BROKEN),
                  ("version", VERSION), version="v3")
    r = skyctl_at(state, "apply", "--keep-going", d, "@agent", node=node)
    assert r.returncode == 1
    for h in "abc":
        assert applied(node, h) == ["001-double.lua"]
    for h in "abc":
        assert re.search(r"^:0000000%s  failed +002-broken\.lua failed: 002-broken\.lua:2: "
                         r"half-way \(all its changes undone\); holds 1 of 3 of set v3, a "
                         r"clean prefix$" % h, r.stdout, re.M), r.stdout
    assert "+ #1 001-double.lua, 1 change" in r.stdout
    assert "apply: set v3 (3 patches): 0 hold it, 0 conflict, 3 failed, 0 unknown, " \
        "0 skipped; 3 stopped at a clean prefix" in r.stdout
    assert call(state, node, ":a", '"deposit", 1') == "2"  # 001 in place, deposit kept
    p = skyctl_at(state, "patches", ":a,:b", node=node)
    assert [l.split("\t")[-2] for l in p.stdout.splitlines() if not l.startswith("# ")] == \
        ["v3 1/3"] * 2, p.stdout
    # without --keep-going the first failure stops the batch
    d2 = patch_set(tmp_path, "bad2", ("double", DOUBLE), ("broken", BROKEN))
    r = skyctl_at(state, "apply", d2, "@agent", node=node)
    assert r.returncode == 1
    assert "1 failed, 0 unknown, 2 skipped" in r.stdout, r.stdout
    # a canary that fails stops the batch, as for inject
    d3 = patch_set(tmp_path, "bad3", ("version", VERSION), ("broken", BROKEN))
    r = skyctl_at(state, "apply", "--canary", "1", d3, "@agent", node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000a  failed +002-broken\.lua failed: .*a clean prefix  \[canary\]$",
                     r.stdout, re.M), r.stdout
    assert "a canary failed: the batch stopped; 2 targets not sent" in r.stderr


def test_dry_run_out_of_order_and_usage(node, tmp_path, state):
    d = patch_set(tmp_path, "set", ("double", DOUBLE), ("version", VERSION))
    r = skyctl_at(state, "apply", "--dry-run", d, ":a", node=node)
    assert r.returncode == 0, r.stderr
    assert "would get 2 of 2 patches, from 001-double.lua on (tried, all undone)" in r.stdout
    assert re.search(r"^      ~ _P\.lua\.CMD\.deposit +function agent\.lua:\d+ -> "
                     r"function 001-double\.lua:2$", r.stdout, re.M), r.stdout
    assert "set" not in str(journal(node, "a"))
    assert applied(node, "a") == []
    # a patch of the set in place without the one before it: out of order
    v = write(tmp_path, "002-version.lua", VERSION)
    assert skyctl_at(state, "inject", ":a", v, node=node).returncode == 0
    r = skyctl_at(state, "apply", d, ":a", node=node)
    assert r.returncode == 1
    assert "holds 002-version.lua out of order (it lacks 001-double.lua): --prune rolls " \
        "it back" in r.stdout, r.stdout
    r = skyctl_at(state, "apply", "--prune", d, ":a", node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    assert applied(node, "a") == ["001-double.lua", "002-version.lua"]
    # usage and local errors: nothing is sent
    assert skyctl_at(state, "apply", node=node).returncode == 2
    assert skyctl_at(state, "apply", "--dry-run", "--prune", d, node=node).returncode == 2
    assert skyctl_at(state, "apply", "--json", "--follow", "1", d, node=node).returncode == 2
    r = skyctl_at(state, "apply", str(tmp_path / "nosuch"), ":a", node=node)
    assert r.returncode == 6 and "cannot read the patch set" in r.stderr
    bad = patch_set(tmp_path, "syntax", ("x", "local = 1\n"))
    r = skyctl_at(state, "apply", bad, ":a", node=node)
    assert r.returncode == 6 and "001-x.lua:1:" in r.stderr
    j = skyctl_at(state, "apply", "--json", d, ":a,:b", node=node)
    doc = json.loads(j.stdout)
    assert j.returncode == 0 and doc["summary"]["holding"] == 2, j.stdout
    assert [t["result"]["held"] for t in doc["targets"]] == [2, 2]


def test_rollback_to_the_previous_set_and_prune_conflicts(node, tmp_path, state):
    v1 = patch_set(tmp_path, "v1", ("double", DOUBLE), ("version", VERSION), version="v1")
    v2 = patch_set(tmp_path, "v2", ("double", DOUBLE), ("version", VERSION),
                   ("extra", EXTRA), version="v2")
    assert skyctl_at(state, "apply", v2, ":a,:b", node=node).returncode == 0
    assert call(state, node, ":a", '"extra"') == "extra"
    r = skyctl_at(state, "apply", "--prune", v1, ":a,:b", node=node)
    assert r.returncode == 0, r.stdout + r.stderr
    for h in "ab":
        assert re.search(r"^:0000000%s  ok +holds set v1 \(2 of 2\): nothing changed\n"
                         r"    - rolled back #3 003-extra\.lua \(1 restored\)$" % h,
                         r.stdout, re.M), r.stdout
    assert applied(node, "a") == ["001-double.lua", "002-version.lua"]
    assert skyctl_at(state, "call", ":a", '"extra"', node=node).returncode != 0
    # forward again; then the extra item changes behind skyctl's back
    assert skyctl_at(state, "apply", v2, ":b", node=node).returncode == 0
    meddle = write(tmp_path, "meddle.lua", '_P.lua.CMD.extra = function() return 0 end\n')
    assert skyctl_at(state, "exec", ":b", meddle, node=node).returncode == 0
    r = skyctl_at(state, "apply", "--prune", v1, ":b", node=node)
    assert r.returncode == 1
    assert re.search(r"^:0000000b  conflict +holds set v1 \(2 of 2\): nothing changed\n"
                     r"    - rolled back #5 003-extra\.lua \(0 restored; 1 conflict left alone: "
                     r"--force restores it\)$", r.stdout, re.M), r.stdout
    r = skyctl_at(state, "apply", "--prune", "--force", v1, ":b", node=node)
    assert r.returncode == 0, r.stdout
    assert applied(node, "b") == ["001-double.lua", "002-version.lua"]
