"""Targets as the node reads them, on a harbor network (harbor 1, the
master, and harbor 2), as skynet's examples/config runs one: a handle
without harbor bits gets the node's harbor, handles on the other harbor are
reached through the node, global names are targets (%NAME), @NAME matches
snax services by their snax name, and the node-wide commands take a TARGET
filter.  Handles of the pair (docs/protocol-harbors.md): harbor 1 runs
agents :0100000b-d, named :0100000e, global :0100000f (GLOBAL1); harbor 2
runs agent :02000009, named :0200000a, global :0200000b (GLOBAL2)."""
import json

import pytest

import nodes
from cli_helpers import skyctl, tsv, write

WHOAMI = 'print(string.format("self :%08x", require("skynet").self()))\n'


@pytest.fixture(scope="module", params=nodes.backends())
def pair(request):
    p = nodes.harbor_pair(request.param)
    r = skyctl("raw", "snax", "pingsnax", node=p[0])
    assert r.returncode == 0 and r.stdout.endswith("\tpingsnax\n"), r.stdout + r.stderr
    yield p
    nodes.stop_pair(p)


@pytest.fixture
def master(pair):
    return pair[0]


def ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def addresses(node, *args):
    """the addresses of the rows of `skyctl --json ARGS` (one target prints
    no address in TSV)"""
    r = ok(skyctl("--json", *args, node=node))
    return [row["address"] for row in json.loads(r.stdout)["rows"]]


def one_error(r, code, *words):
    """r failed with exit code and one stderr line holding words"""
    assert r.returncode == code, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


# --- the node's harbor ------------------------------------------------------

@pytest.mark.parametrize("target", [":c", "c", ":0100000c"])
def test_handle_without_harbor_gets_the_nodes(master, target):
    assert addresses(master, "ping", target) == [":0100000c"]
    assert ok(skyctl("info", target, node=master)).stdout == "balance\t0\nid\t2\n"


def test_call_bare_handle(master):
    # named answers "whoami" with its own handle, in decimal
    assert tsv(ok(skyctl("call", ":e", '"whoami"', node=master)).stdout)[0] \
        == ["1", str(0x0100000e)]


def test_filter_with_bare_handle(master):
    assert tsv(ok(skyctl("list", ":c,e", node=master)).stdout) == [
        [":0100000c", "snlua agent 2"], [":0100000e", "snlua named"]]


# --- the other harbor, from the master ---------------------------------------

def test_ping_and_call_other_harbor(master):
    assert addresses(master, "ping", ":0200000a") == [":0200000a"]
    assert tsv(ok(skyctl("call", ":0200000a", '"whoami"', node=master)).stdout)[0] \
        == ["1", str(0x0200000a)]


def test_inject_and_diff_other_harbor(master, tmp_path):
    script = write(tmp_path, "whoami.lua", WHOAMI)
    r = ok(skyctl("diff", ":0200000a", script, node=master))
    assert r.stdout.startswith(":0200000a  would apply cleanly") and "self :0200000a" in r.stdout
    r = ok(skyctl("inject", ":0200000a", script, node=master))
    assert r.stdout.startswith(":0200000a  ok") and "self :0200000a" in r.stdout
    # with a service of its own harbor in the same run
    r = ok(skyctl("--json", "inject", ":0200000a,:c", script, node=master))
    doc = json.loads(r.stdout)
    assert [t["target"] for t in doc["targets"]] == [":0200000a", ":0100000c"]
    assert all(t["status"] == "ok" for t in doc["targets"])


def test_dead_handle_on_other_harbor(master, tmp_path):
    one_error(skyctl("ping", ":02000099", node=master), 1,
              "ping :02000099: no such service on harbor 2")
    r = skyctl("inject", ":02000099", write(tmp_path, "x.lua", "x = 1\n"), node=master)
    one_error(r, 1, "inject :02000099: no such service on harbor 2")
    assert r.stdout == ""


def test_harbor_that_never_joined(master, tmp_path):
    # the node never answers a ping of :0300000a: the check has a deadline
    r = skyctl("--timeout", "1", "inject", ":0300000a", write(tmp_path, "x.lua", "x = 1\n"),
               node=master)
    one_error(r, 4, "inject :0300000a: no answer through the node within 1 s",
              "harbor 3")


@pytest.mark.parametrize("args", [["kill", ":0200000a"], ["list", ":0200000a"],
                                  ["stat", ":0200000a"], ["top", "--once", ":0200000a"],
                                  ["stuck", ":0200000a"], ["repl", ":0200000a"]])
def test_node_only_commands_refuse_other_harbor(pair, args):
    r = skyctl(*args, node=pair[0], input="")
    one_error(r, 2, "%s :0200000a: on harbor 2" % args[0], "harbor 2's console")
    assert addresses(pair[1], "ping", ":a") == [":0200000a"]    # kill did not reach it


# --- global names ------------------------------------------------------------

def test_global_names_are_targets(master, tmp_path):
    assert addresses(master, "ping", "%GLOBAL2,%GLOBAL1") == [":0200000b", ":0100000f"]
    assert tsv(ok(skyctl("call", "%GLOBAL2", '"whoami"', node=master)).stdout)[0] \
        == ["1", str(0x0200000b)]
    r = ok(skyctl("inject", "%GLOBAL2", write(tmp_path, "w.lua", WHOAMI), node=master))
    assert r.stdout.startswith(":0200000b  ok") and "self :0200000b" in r.stdout


def test_global_name_from_the_other_harbor(pair):
    assert addresses(pair[1], "ping", "%GLOBAL1") == [":0100000f"]


def test_unknown_global_name(master, tmp_path):
    one_error(skyctl("--timeout", "1", "ping", "%NOSUCH", node=master), 1,
              "no service is registered as global name %NOSUCH")
    r = skyctl("--timeout", "1", "inject", "%NOSUCH", write(tmp_path, "x.lua", "x = 1\n"),
               node=master)
    one_error(r, 1, "%NOSUCH")


def test_all_hex_global_name_is_no_handle(master):
    # %CAFE is a name, never the handle :0000cafe
    one_error(skyctl("--timeout", "1", "ping", "%CAFE", node=master), 1,
              "global name %CAFE")


# --- snax ----------------------------------------------------------------------

def snax_addrs(node):
    return [row[0] for row in tsv(ok(skyctl("list", node=node)).stdout)
            if row[1] == "snlua snaxd pingsnax"]


def test_snax_service_by_its_name(master):
    addrs = snax_addrs(master)
    assert addrs
    assert addresses(master, "ping", "@pingsnax") == addrs
    assert addresses(master, "list", "@pingsnax") == addrs


# --- node-wide commands take a TARGET filter ----------------------------------

AGENTS = [":0100000b", ":0100000c", ":0100000d"]


@pytest.mark.parametrize("args", [["list"], ["stat"], ["mem"], ["top", "--once"]])
def test_filters(master, args):
    rows = tsv(ok(skyctl(*args, "@agent", node=master)).stdout)
    assert sorted(row[0] for row in rows) == AGENTS
    doc = json.loads(ok(skyctl("--json", *args, "@agent", node=master)).stdout)
    assert sorted(row["address"] for row in doc["rows"]) == AGENTS


@pytest.mark.parametrize("args", [["list"], ["top", "--once"]])
def test_filters_by_name(master, args):
    doc = json.loads(ok(skyctl("--json", *args, ".named,%GLOBAL1", node=master)).stdout)
    assert sorted(row["address"] for row in doc["rows"]) == [":0100000e", ":0100000f"]


def test_stuck_filter(master):
    r = ok(skyctl("stuck", "@agent", node=master))
    assert r.stdout == "" and "0 of 3 services" in r.stderr
    doc = json.loads(ok(skyctl("--json", "stuck", "@agent", node=master)).stdout)
    assert doc["rows"] == [] and doc["summary"]["services"] == 3
