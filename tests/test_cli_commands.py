"""Every subcommand against a node, in the three output modes: tab-separated
in a pipe, an aligned table on a (forced) terminal, typed JSON."""
import json
import os
import re
import time

import pytest

import nodes
from cli_helpers import skyctl, tsv

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

ADDR = re.compile(r"^:[0-9a-f]{8}$")


@pytest.fixture
def named_node(backend):
    n = nodes.Node(backend, agents=3, services=("named",)).start()
    yield n
    n.stop()


def ok(*args, node, **kw):
    r = skyctl(*args, node=node, **kw)
    assert r.returncode == 0, (args, r.stderr)
    assert r.stderr == ""
    return r


def jrun(*args, node):
    return json.loads(ok("--json", *args, node=node).stdout)["rows"]


def test_list_three_modes(node):
    rows = tsv(ok("list", node=node).stdout)
    assert [":0000000a", "snlua agent 1"] in rows
    assert all(ADDR.match(r[0]) and len(r) == 2 for r in rows)
    table = ok("list", node=node, tty=True, env={"NO_COLOR": "1"}).stdout.splitlines()
    assert re.match(r"^ADDRESS +NAME$", table[0])
    assert len(table) == len(rows) + 1 and "\033" not in "".join(table)
    assert any(re.match(r"^:0000000a  snlua agent 1$", l) for l in table)
    coloured = ok("list", node=node, tty=True).stdout
    assert coloured.startswith("\033[1mADDRESS")
    recs = jrun("list", node=node)
    assert {"address": ":0000000a", "name": "snlua agent 1"} in recs
    assert len(recs) == len(rows)


def test_stat_joins_names_and_types(node):
    recs = jrun("stat", node=node)
    agents = [x for x in recs if x["name"].startswith("snlua agent")]
    assert len(agents) == 3
    for x in recs:
        assert ADDR.match(x["address"])
        assert isinstance(x["cpu"], (int, float)) and x["cpu"] >= 0
        for k in ("message", "mqlen", "task"):
            assert isinstance(x[k], int), x
    rows = tsv(ok("stat", node=node).stdout)
    assert all(len(r) == 6 for r in rows)
    table = ok("stat", node=node, tty=True, env={"NO_COLOR": "1"}).stdout.splitlines()
    assert table[0].split() == ["ADDRESS", "NAME", "CPU", "MESSAGE", "MQLEN", "TASK"]


def test_stat_and_mem_sort(node):
    cpus = [x["cpu"] for x in jrun("stat", "--sort", "cpu", node=node)]
    assert cpus == sorted(cpus, reverse=True)
    mems = [x["mem"] for x in jrun("mem", "--sort", "MEM", node=node)]
    assert mems == sorted(mems, reverse=True)
    names = [r[1] for r in tsv(ok("mem", "--sort", "name", node=node).stdout)]
    assert names == sorted(names)


def test_mem_and_gc_in_bytes(node):
    for cmd in ("mem", "gc"):
        recs = jrun(cmd, node=node)
        a = [x for x in recs if x["name"] == "snlua agent 1"][0]
        assert isinstance(a["mem"], int) and 10_000 < a["mem"] < 10_000_000
        rows = tsv(ok(cmd, node=node).stdout)
        assert [":0000000a", "snlua agent 1", str(a["mem"])] in rows or cmd == "gc"
        table = ok(cmd, node=node, tty=True).stdout
        assert re.search(r"snlua agent 1 +\d+\.\d\d KiB", table)


def test_ping_targets(node):
    # the node measures in its 1/100 s ticks: a busy machine may see one
    assert re.fullmatch(r"\d+\.\d\d\n", ok("ping", ":a", node=node).stdout)
    rows = tsv(ok("ping", "@agent", node=node).stdout)
    assert [r[0] for r in rows] == [":0000000a", ":0000000b", ":0000000c"]
    recs = jrun("ping", "@agen*,:a,b", node=node)  # duplicates dropped
    assert [x["address"] for x in recs] == [":0000000a", ":0000000b", ":0000000c"]
    assert all(x["ok"] is True and isinstance(x["time"], (int, float))
               and x["time"] >= 0 for x in recs)
    table = ok("ping", "a,0000000b", node=node, tty=True,
               env={"NO_COLOR": "1"}).stdout.splitlines()
    assert table[0].split() == ["ADDRESS", "TIME"]


def test_info_call_and_names(named_node):
    n = named_node
    assert ok("info", ":a", node=n).stdout == "balance\t0\nid\t1\n"
    assert ok("call", ":a", '"deposit",', "5", node=n).stdout == "1\t5\nn\t1\n"
    assert ok("info", "a", node=n).stdout == "balance\t5\nid\t1\n"
    out = ok("info", ".named", "x", "y", node=n).stdout
    assert "args\tx,y" in out
    recs = jrun("call", "@agent", '"echo", "hi"', node=n)
    assert [x["output"] for x in recs] == [["1\thi", "n\t1"]] * 3


def test_task_uniqtask_killtask(node):
    assert ok("task", ":a", node=node).stdout == ""
    assert ok("uniqtask", "@agent", node=node).stdout == ""
    r = ok("killtask", ":a", "nosuchthread", node=node)
    assert r.stdout == "Not found\n"


def test_start_kill_exit(node):
    out = ok("start", "agent", "x", node=node).stdout
    m = re.match(r"^(:[0-9a-f]{8})\tagent\n$", out)
    assert m, out
    addr = m.group(1)
    assert addr in ok("list", node=node).stdout
    assert ok("kill", addr, node=node).stdout == "%s\tsnlua agent x\n" % addr
    assert addr not in ok("list", node=node).stdout
    out = ok("log", "agent", "y", node=node).stdout
    addr2 = out.split("\t")[0]
    assert ADDR.match(addr2)
    ok("exit", addr2, node=node)
    for _ in range(50):
        if addr2 not in ok("list", node=node).stdout:
            break
        time.sleep(0.05)
    assert addr2 not in ok("list", node=node).stdout


def test_env_commands(node):
    # skynet 1.5 to 1.7: no getenv, setenv in the console; the agent's
    # (test_releases.py); 1.4: no dbgcmd either, and skyctl says so
    if nodes.old_console(node):
        for args in (("getenv", "agents"), ("setenv", "skyctl_test_key", "v1")):
            r = skyctl(*args, node=node)
            assert (r.returncode, r.stdout) == (1, ""), args
            assert r.stderr.endswith("%s: the node's console has no getenv or setenv (skynet "
                                     "1.8 added them)\n" % " ".join(args)), r.stderr
        return
    assert ok("getenv", "agents", node=node).stdout == "agents\t3\n"
    assert jrun("getenv", "agents", node=node) == [{"key": "agents", "value": "3"}]
    ok("setenv", "skyctl_test_key", "v1", node=node)
    assert ok("getenv", "skyctl_test_key", node=node).stdout == "skyctl_test_key\tv1\n"


def test_node_wide_commands(node):
    for cmd in ("service", "netstat", "cmem", "jmem", "clearcache", "dumpheap"):
        r = ok(cmd, node=node)
        json.loads(ok("--json", cmd, node=node).stdout)["rows"]
    recs = jrun("cmem", node=node)
    assert all(isinstance(x["mem"], int) for x in recs)
    assert "total" in [x["key"] for x in recs]
    recs = jrun("jmem", node=node)
    assert all(isinstance(x["mem"], int) for x in recs)
    assert "heap profilling is" in ok("profactive", node=node).stdout
    assert [x["id"] for x in jrun("netstat", node=node)]


def test_trace_logon_logoff(node):
    for args in (("trace", ":a", "on"), ("trace", ":a", "off"), ("logoff", ":b")):
        assert ok(*args, node=node).stdout == ""
    # no logpath in the node's config: logon refuses (test_first_hour.py),
    # where getenv can tell (not on skynet 1.4)
    assert skyctl("logon", ":b", node=node).returncode == (0 if nodes.old_console(node) else 1)
    # the services still answer
    assert len(tsv(ok("ping", "@agent", node=node).stdout)) == 3


def test_raw(node):
    assert ok("raw", "list", node=node).stdout == ok("list", node=node).stdout
    r = ok("raw", "info", ":a", node=node)
    assert r.stdout == "balance\t0\nid\t1\n"
    recs = jrun("raw", "help", node=node)
    assert recs[0]["output"][0].startswith("call\t") or any(
        l.startswith("list\t") for l in recs[0]["output"])


def test_options_after_the_command_and_prefixes(node):
    assert ok("li", node=node).stdout == ok("list", node=node).stdout
    r = skyctl("list", "-H", node.address, "--json", "--timeout=2")
    assert r.returncode == 0 and json.loads(r.stdout)["rows"]
