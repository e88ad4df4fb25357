"""The output contract: with --json every command prints exactly one JSON
document (an object with its rows, targets or output lines and a summary
carrying the exit status), always valid UTF-8, agent-reply keys sorted;
`call --json` gives the returned values as JSON values.  Every command of
`skyctl help` is run, with several targets where it takes targets, against
the sandbox (and real skynet when SKYNET_ROOT is set)."""
import json
import os
import re
import subprocess

import pytest

import nodes

FIX = '_P.lua.CMD.fixed = function() return "fixed" end\n'


def run(tmp_path, *args, node=None, input=None):
    """skyctl --json ARGS with every home and XDG directory in tmp_path;
    the completed process, stdout as bytes"""
    env = dict(os.environ, HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               NO_COLOR="1")
    env.pop("SKYCTL_HOST", None)
    env.pop("SKYCTL_FORCE_TTY", None)
    cmd = [nodes.SKYCTL] + (["-H", node.address] if node else []) + ["--json"] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          input=input if input is not None else b"", timeout=60)


def document(r):
    """the whole of stdout as one JSON document, checked for the contract"""
    text = r.stdout.decode("utf-8")  # strict: the output is always UTF-8
    doc = json.loads(text)
    assert isinstance(doc, dict), text
    assert doc["summary"]["status"] == r.returncode, (text, r.stderr)
    assert isinstance(doc["summary"]["errors"], list)
    assert sum(isinstance(doc.get(k), list) for k in ("rows", "targets", "output")) == 1 or \
        "patches" in doc, text
    return doc


def commands():
    out = subprocess.run([nodes.SKYCTL, "help"], stdout=subprocess.PIPE, text=True).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def args_for(tmp_path):
    """the arguments each command runs with: several targets where it
    takes targets; commands that end services go last (the dict's order)"""
    fix = tmp_path / "fix.lua"
    fix.write_text(FIX)
    patch_set = tmp_path / "set"
    patch_set.mkdir()
    (patch_set / "001-fix.lua").write_text(FIX)
    return {
        "list": [], "stat": [], "mem": [], "gc": [], "info": [":a,:b"],
        "ping": [":a,:b"], "task": [":a,:b"], "uniqtask": [":a,:b"],
        "killtask": [":a,:b", "nosuchthread"], "log": ["agent", "y"], "snax": ["nosuch"],
        "service": [], "netstat": [], "cmem": [], "jmem": [], "clearcache": [],
        "call": [":a,:b", '"deposit", 1'], "trace": [":a,:b", "on"], "logon": [":a,:b"],
        "logoff": [":a,:b"], "signal": [":a,:b", "--yes"], "getenv": ["agents"],
        "setenv": ["skyctl_json_key", "1"], "profactive": [], "dumpheap": [],
        "raw": ["list"], "inject": [":a,:b", str(fix)], "diff": [":a,:b", str(fix)],
        "exec": [":a,:b", str(fix)], "apply": [str(patch_set), ":a,:b"],
        "patches": [":a,:b"], "rollback": [":a,:b"], "uninstall": [":a,:b"],
        "repl": [], "history": [], "help": [], "top": [":a,:b", "-d", "0.2"],
        "stuck": [":a,:b"], "metrics": ["--top", "1"], "complete": ["--", "li"],
        "profile": [":a,:b", "--seconds", "0.2"],
        "start": ["agent", "x"], "kill": [":c,:b", "--yes"], "exit": [":a"],
    }


def test_every_command_prints_one_document(node, tmp_path):
    table = args_for(tmp_path)
    assert sorted(table) == sorted(commands()), "a command without a --json case here"
    for name, args in table.items():
        r = run(tmp_path, name, *args, node=node, input=b"1 + 1\n" if name == "repl" else None)
        doc = document(r)
        if name in ("ping", "call", "info", "kill"):
            assert len(doc["rows"]) == 2 and doc["summary"]["ok"] == 2, (name, doc)
        if name == "logon" and not nodes.old_console(node):
            # the node has no logpath: nothing sent, a failed row each
            # (skynet 1.4 cannot tell: logon goes ahead there)
            assert len(doc["rows"]) == 2 and doc["summary"]["failed"] == 2, (name, doc)
        if name in ("inject", "exec", "apply", "diff", "rollback", "uninstall"):
            assert [t["target"] for t in doc["targets"]] == [":0000000a", ":0000000b"], name


def sorted_keys(v):
    if isinstance(v, dict):
        return list(v) == sorted(v) and all(sorted_keys(x) for x in v.values())
    if isinstance(v, list):
        return all(sorted_keys(x) for x in v)
    return True


def test_agent_replies_have_sorted_keys(node, tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text(FIX)
    doc = document(run(tmp_path, "inject", ":a,:b,:c", str(fix), node=node))
    assert doc["summary"]["ok"] == 3 and doc["summary"]["targets"] == 3
    assert all(sorted_keys(t["result"]) for t in doc["targets"])
    # the same shape for each service of one run
    shapes = {json.dumps(t["result"]["scripts"][0]["changes"]) for t in doc["targets"]}
    assert len(shapes) == 1


def test_call_values_are_typed(node, tmp_path):
    doc = document(run(tmp_path, "call", ":a,:b", '"deposit", 5', node=node))
    assert [row["values"] for row in doc["rows"]] == [[5], [5]]
    doc = document(run(tmp_path, "call", ":a", '"echo", "hi\\nthere"', node=node))
    assert doc["rows"][0]["values"] == ["hi\nthere"]


def test_bytes_that_are_not_utf8_are_escaped(node, tmp_path):
    r = run(tmp_path, "call", ":a", '"echo", "caf\\233 \\255"', node=node)
    doc = document(r)
    assert doc["rows"][0]["values"] == ["caf\u00e9 \u00ff"]
    assert b"\\u00e9" in r.stdout and b"\\u00ff" in r.stdout


def test_top_iterations_are_one_document(node, tmp_path):
    doc = document(run(tmp_path, "top", "--iterations", "2", "-d", "0.2", node=node))
    assert {row["sample"] for row in doc["rows"]} == {1, 2}
    assert re.fullmatch(r":[0-9a-f]{8}", doc["rows"][0]["address"])


def test_a_command_that_cannot_run_still_prints_its_document(node, tmp_path):
    r = run(tmp_path, "inject", ":ff", str(tmp_path / "none.lua"), node=node)
    doc = document(r)
    assert r.returncode == 1 and doc["targets"] == []
    assert any("no such service" in e for e in doc["summary"]["errors"])


def test_list_stat_mem_gc_take_an_optional_target_filter(node, tmp_path):
    for name in ("list", "stat", "mem", "gc"):
        doc = document(run(tmp_path, name, ":a,@agent*", node=node))
        assert {row["address"] for row in doc["rows"]} == \
            {":0000000a", ":0000000b", ":0000000c"}, (name, doc)
        assert len(document(run(tmp_path, name, node=node))["rows"]) > 3
