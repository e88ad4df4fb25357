"""The inject transport and engine (lua/boot.lua, lua/agent.lua, lua/engine.lua,
lua/journal.lua, lua/wire.lua) driven from Python, without the skyctl binary:
the debug-mode bootstrap, the SKYCTL loader, the SKYCTL1 agent, fan-out
through a hub, atomic scripts, journal, rollback, upgrade and --no-agent.
Runs against the sandbox and, when SKYNET_ROOT is set, against real skynet.
The skyctl CLI tests are in test_inject.py; this file pins the protocol both
sides rely on."""

import os

import pytest

import nodes
from inject_client import (AGENT, VERSION, BootError, Client, Conn, agents, bootstrap, call,
                           dbgcmd, decode, encode, escape, route, script, unescape)

FIX = """local CMD = _P.lua.CMD
local balance
print("patching", ...)
hotfix.replace(CMD, "deposit", function(n)
    balance = balance + 2 * n
    return balance
end)
"""

BAD = """local CMD = _P.lua.CMD
CMD.deposit = nil
CMD.extra = function() end
hotfix.setupvalue(CMD.balance, "balance", 999)
dummy_global = 1
_G.leaked = true
error("boom")
"""


@pytest.fixture
def client(node):
    c = Client(node.port)
    yield c
    c.close()


def test_first_inject_bootstraps_once(node, client):
    con = Conn(node.port)
    first = agents(con)[0]
    hub = "%x" % first
    call(con, hub, '"deposit", 5')
    rep = client.request(hub, {"op": "apply", "scripts": [script(FIX)], "args": ["a1", "a2"],
                                "who": "me@host"})
    assert rep["ok"], rep
    assert client.boots == 1
    s = rep["scripts"][0]
    assert s["out"] == ["patching\ta1\ta2"]
    assert s["changes"] == [{"kind": "field", "what": "changed", "path": "_P.lua.CMD.deposit",
                             "old": "function agent.lua:9", "new": "function fix.lua:4"}]
    assert call(con, hub, '"deposit", 1') == "1\t7\nn\t1"  # balance 5 kept, doubled deposit
    rep = client.request(hub, {"op": "journal"})
    assert client.boots == 1  # the agent stayed: no second bootstrap
    [entry] = rep["journal"]
    assert entry["name"] == "fix.lua" and entry["who"] == "me@host" and entry["state"] == "applied"
    con.close()


def test_atomic_failure_leaves_service_as_it_was(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    call(con, hub, '"deposit", 5')
    rep = client.request(hub, {"op": "apply", "scripts": [script(BAD, "bad.lua")]})
    assert not rep["ok"] and rep["err"] == "bad.lua:7: boom" and "stuck" not in rep
    paths = sorted(c["path"] for c in rep["scripts"][0]["changes"])
    assert paths == ["_G.leaked", "_P.lua.CMD.balance", "_P.lua.CMD.deposit", "_P.lua.CMD.extra"]
    assert call(con, hub, '"deposit", 1') == "1\t6\nn\t1"
    assert call(con, hub, '"balance"') == "1\t6\nn\t1"
    assert not client.request(hub, {"op": "journal"})["journal"]
    con.close()


def test_fanout_keeps_state_and_rolls_back(node, client):
    con = Conn(node.port)
    addrs = agents(con)
    for a in addrs:
        call(con, "%x" % a, '"deposit", 10')
    hub = "%x" % addrs[0]
    rep = client.request(hub, {"op": "apply", "targets": addrs, "stop": True, "par": 4,
                               "sub": {"op": "apply", "scripts": [script(FIX)]}})
    assert [r["addr"] for r in rep["results"]] == addrs and all(r["ok"] for r in rep["results"])
    for a in addrs:
        assert call(con, "%x" % a, '"deposit", 1') == "1\t12\nn\t1"
    rep = client.request("%x" % addrs[-1], {"op": "rollback"})
    assert rep["ok"] and rep["rolled"][0]["conflicts"] == []
    assert call(con, "%x" % addrs[-1], '"deposit", 1') == "1\t13\nn\t1"  # state survives
    assert call(con, "%x" % addrs[0], '"deposit", 1') == "1\t14\nn\t1"
    con.close()


def test_a_peer_replies_in_packed_bytes(node, client):
    """a peer's reply is skynet.packstring's, which the hub passes on in
    base64 (the "b" of lua/wire.lua): no peer encodes or escapes a reply in
    Lua"""
    con = Conn(node.port)
    hub, peer = ["%x" % a for a in agents(con)[:2]]
    req = {"op": "journal", "targets": [int(peer, 16)], "sub": {"op": "journal"}}
    client.request(hub, req)  # the agent in place
    out, status = con.cmd("%s %s SKYCTL1 %s %s" % (route(con), hub, VERSION, escape(encode(req))))
    body = unescape(out.strip("\n")[len("SKYCTL1 "):].encode("latin-1"))
    assert status == "OK" and b"s7:results{i1;b" in body, body[:300]
    assert decode(body)["results"] == [{"ok": True, "addr": int(peer, 16), "journal": []}]
    con.close()


def test_a_hub_without_the_crypt_module_escapes_the_replies():
    """where skynet.crypt cannot be loaded (the sandbox's no_crypt: a build
    without it), the hub passes its peers' replies on escaped in Lua (the
    "p" of lua/wire.lua), and they read the same"""
    n = nodes.Node("sandbox", env={"no_crypt": "1"}).start()
    client = Client(n.port)
    con = Conn(n.port)
    try:
        hub, peer = ["%x" % a for a in agents(con)[:2]]
        req = {"op": "apply", "targets": [int(peer, 16)],
               "sub": {"op": "apply", "scripts": [script(FIX)]}}
        client.request(hub, {"op": "journal"})  # the agent in place
        out, status = con.cmd("%s %s SKYCTL1 %s %s" % (route(con), hub, VERSION,
                                                       escape(encode(req))))
        body = unescape(out.strip("\n")[len("SKYCTL1 "):].encode("latin-1"))
        assert status == "OK" and b"s7:results{i1;p" in body, body[:300]
        result = decode(body)["results"][0]
        assert result["ok"] and result["addr"] == int(peer, 16), result
        assert [c["path"] for c in result["scripts"][0]["changes"]] == ["_P.lua.CMD.deposit"]
        assert call(con, peer, '"deposit", 1') == "1\t2\nn\t1"
    finally:
        con.close()
        client.close()
        n.stop()


def test_peers_keep_nothing_but_their_journal(node, client):
    con = Conn(node.port)
    hub, peer = ["%x" % a for a in agents(con)[:2]]
    rep = client.request(hub, {"op": "apply", "targets": [int(peer, 16)],
                               "sub": {"op": "apply", "scripts": [script(FIX)]}})
    assert rep["results"][0]["ok"] and client.boots == 1
    # the engine came with the request and went: no debug command stays but
    # SKYCTLP, which brings the engine to a peer keeping a journal (a stray
    # argument gets a refusal, and nothing runs)
    if route(con) == "dbgcmd":
        for cmd in ("SKYCTL1", "SKYCTL"):
            assert con.cmd("dbgcmd %s %s x" % (peer, cmd))[1] == "Error"
        assert con.cmd("dbgcmd %s SKYCTLP x" % peer)[1] == "OK"
    # the journal operations come with each request for one
    for _ in range(2):
        rep = client.request(hub, {"op": "journal", "targets": [int(peer, 16)],
                                   "sub": {"op": "journal"}})
        assert [e["name"] for e in rep["results"][0]["journal"]] == ["fix.lua"]
    # a console reaching the peer itself gets the whole agent there
    rep = client.request(peer, {"op": "eval", "src": "1 + 1"})
    assert rep["values"] == ["2"] and client.boots == 2
    assert [e["name"] for e in client.request(peer, {"op": "journal"})["journal"]] == ["fix.lua"]
    con.close()


def test_a_broken_journal_chunk_gets_an_error_reply(node, client, tmp_path):
    con = Conn(node.port)
    hub, peer = agents(con)[:2]
    client.request("%x" % hub, {"op": "apply", "targets": [peer],
                                "sub": {"op": "apply", "scripts": [script(FIX)]}})
    # what a hub RUNs in a peer for a journal request (the engine, whose
    # chunk returns what runs the request and returns the reply: "t" or "f"
    # and the packed table), with the chunk broken (sent by stock inject)
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lua")
    probe = tmp_path / "probe.lua"
    probe.write_text('local skynet = require "skynet"\n'
                     'local function src(p) local f = assert(io.open(p)) local s = f:read("a")'
                     ' f:close() return s end\n'
                     'local run = "local e = ... print(load(e, \'=skyctl-engine\', \'t\','
                     ' _ENV)(select(2, ...))())"\n'
                     'local _, out = skynet.call(%d, "debug", "RUN", run, "skyctl-run",'
                     ' src("%s/engine.lua"), "runonce", "%s", nil, {op = "journal",'
                     ' v = "%s", ops = {"not lua ("}})\n'
                     'local rep = skynet.unpack(out:sub(2))\n'
                     'print(out:sub(1, 1), rep.ok, rep.err)'
                     % (peer, lua, VERSION, VERSION))
    out, status = con.cmd("inject %x %s" % (hub, probe))
    assert status == "OK", out
    flag, ok, err = out.split("\t", 2)
    assert flag == "f" and ok == "false", out
    assert err.startswith("skyctl agent: operations: "), out
    # nothing was kept: the next journal request brings the real chunk
    rep = client.request("%x" % hub, {"op": "journal", "targets": [peer],
                                      "sub": {"op": "journal"}})
    assert [e["name"] for e in rep["results"][0]["journal"]] == ["fix.lua"]
    con.close()


def test_remove_unregisters_and_keeps_the_journal(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    client.request(hub, {"op": "apply", "scripts": [script(FIX)]})
    assert client.request(hub, {"op": "remove"})["removed"]
    for cmd in ("SKYCTL1", "SKYCTL"):
        assert con.cmd("dbgcmd %s %s x" % (hub, cmd))[1] == "Error"
    rep = client.request(hub, {"op": "journal"})
    assert [e["name"] for e in rep["journal"]] == ["fix.lua"] and client.boots == 2
    con.close()


def test_malformed_requests_get_an_error_reply(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    assert client.request(hub, {"op": "ping"})["ok"]  # the agent is in place
    cases = ((b"{s2:op", "bad byte at 7"), (b"i1;x", "trailing bytes at 4"),
             (b"{" * 70 + b"}" * 70, "nesting too deep"), (b"s9:ab", "bad string at 1"),
             (b"i1;", "not a table"))
    for raw, why in cases:
        rep, err = dbgcmd(con, hub, "SKYCTL1", VERSION, escape(raw))
        assert rep == {"ok": False, "err": "bad request: " + why}, (raw, rep, err)
    con.close()


def test_rollback_reports_conflicts(node, client, tmp_path):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    client.request(hub, {"op": "apply", "scripts": [script(FIX)]})
    # someone changes deposit behind the journal's back (stock inject)
    other = tmp_path / "other.lua"
    other.write_text("_P.lua.CMD.deposit = function() return 'other' end")
    assert con.cmd("inject %s %s" % (hub, other))[1] == "OK"
    rep = client.request(hub, {"op": "rollback"})
    assert rep["conflict"] and rep["rolled"][0]["restored"] == []
    [conflict] = rep["rolled"][0]["conflicts"]
    assert conflict["path"] == "_P.lua.CMD.deposit" and conflict["why"] == "changed since"
    assert call(con, hub, '"deposit", 1') == "1\tother\nn\t1"
    kinds = [(e["kind"], e["state"]) for e in client.request(hub, {"op": "journal"})["journal"]]
    # the conflicting item stays with the patch until a forced rollback
    assert kinds == [("apply", "partly rolled back"), ("rollback", "done")]
    rep = client.request(hub, {"op": "rollback", "force": True})
    assert rep["rolled"][0]["restored"][0]["path"] == "_P.lua.CMD.deposit"
    assert call(con, hub, '"deposit", 1') == "1\t1\nn\t1"
    con.close()


def test_reply_survives_terminator_lookalikes(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    src = 'print("<CMD OK>") print("<CMD Error>\\n%41 x") print(("\\0\\r\\n"))'
    want = ["<CMD OK>", "<CMD Error>\n%41 x", "\0\r\n"]
    rep = client.request(hub, {"op": "apply", "scripts": [script(src)]})
    assert rep["scripts"][0]["out"] == want
    # through a hub: its own reply and its peers' lines, spliced into one
    addrs = agents(con)
    rep = client.request(hub, {"op": "apply", "targets": addrs, "par": 2, "again": True,
                               "sub": {"op": "apply", "again": True, "scripts": [script(src)]}})
    assert [r["scripts"][0]["out"] for r in rep["results"]] == [want] * len(addrs)
    con.close()


def test_newer_client_upgrades_agent_and_keeps_journal(node):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    old = Client(node.port, version="old-version", agent=AGENT)
    old.request(hub, {"op": "apply", "scripts": [script(FIX)]})
    new = Client(node.port)
    rep = new.request(hub, {"op": "journal"})
    assert [e["name"] for e in rep["journal"]] == ["fix.lua"] and new.boots == 0
    assert new.request(hub, {"op": "ping"})["version"] == VERSION
    old.close(), new.close(), con.close()


def test_no_agent_leaves_nothing_registered(node):
    con = Conn(node.port)
    addrs = agents(con)
    hub = "%x" % addrs[0]
    c = Client(node.port)
    rep = c.request(hub, {"op": "apply", "targets": addrs, "stop": True,
                          "sub": {"op": "apply", "scripts": [script(FIX)]}}, once=True)
    assert all(r["ok"] for r in rep["results"]), rep
    for a in addrs:
        for cmd in ("SKYCTL1", "SKYCTL", "SKYCTL_ONCE", "SKYCTLP"):
            assert con.cmd("dbgcmd %x %s x" % (a, cmd))[1] == "Error"
        assert call(con, "%x" % a, '"deposit", 1') == "1\t2\nn\t1"
    c.close(), con.close()


def test_service_debugged_elsewhere_is_detected(node):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    other = Conn(node.port)
    other.send("debug %s\n" % hub)
    other.read_until(":%08x>" % int(hub, 16))
    with pytest.raises(BootError, match="being debugged by another session"):
        bootstrap(node.port, hub, timeout=0.5)
    other.send("cont\n")
    con.cmd("ping " + hub)
    other.read_until("<CMD OK>\n")
    # and nothing of ours is left in debug mode: a new session attaches
    bootstrap(node.port, hub).close()
    other.close(), con.close()


def test_large_data_tables_are_not_walked(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    client.request(hub, {"op": "ping"})
    fill = ("local t = {} for i = 1, 1000000 do t[i] = i end _G.BIG = t "
            "local h = {} for i = 1, 100000 do h['k' .. i] = i end _P.lua.CMD.players = h")
    assert client.request(hub, {"op": "apply", "scripts": [script(fill, "fill.lua")]})["ok"]
    rep = client.request(hub, {"op": "apply", "dry": True, "scripts": [script(FIX)]})
    assert rep["ok"] and rep["cost"] < 10000, rep["cost"]
    # FIX reaches _P.lua.CMD alone: _G's tables are left out, BIG with them
    assert rep["untracked"]["large"] == ["_P.lua.CMD.players"]
    assert call(con, hub, '"deposit", 1') == "1\t1\nn\t1"  # dry run reverted
    # a script reading BIG reaches it: too big to copy, and said so
    glob = "local n = #BIG\n" + FIX
    rep = client.request(hub, {"op": "apply", "dry": True, "scripts": [script(glob, "glob.lua")]})
    assert rep["ok"] and rep["cost"] < 10000, rep["cost"]
    assert sorted(rep["untracked"]["large"]) == ["_G.BIG", "_P.lua.CMD.players"]
    con.close()


def test_thousand_services_through_one_hub(backend):
    node = nodes.Node(backend, agents=1000).start(timeout=60)
    try:
        con = Conn(node.port)
        addrs = agents(con)
        assert len(addrs) == 1000
        c = Client(node.port)
        src = ("-- " + "x" * 70 + "\n") * 24 + FIX
        for _ in range(2):      # first installs the agent (timings: bench/bench_inject.py)
            rep = c.request("%x" % addrs[0], {"op": "apply", "targets": addrs, "stop": True,
                                              "par": 16, "sub": {"op": "apply",
                                                                 "scripts": [script(src)]}})
            assert sum(1 for r in rep["results"] if r["ok"]) == 1000
        assert call(con, "%x" % addrs[-1], '"deposit", 1') == "1\t2\nn\t1"
        c.close(), con.close()
    finally:
        node.stop()


def test_runaway_script_is_stopped_and_undone(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    src = "_P.lua.CMD.deposit = nil\nwhile true do end\n"
    rep = client.request(hub, {"op": "apply", "timeout": 0.3, "scripts": [script(src, "loop.lua")]})
    assert not rep["ok"] and rep["err"].startswith("loop.lua:2: script still running after 0.3 s")
    assert call(con, hub, '"deposit", 1') == "1\t1\nn\t1"
    # the same in code a hotfix helper runs (here a metamethod)
    src = ("local t = setmetatable({}, {__newindex = function() while true do end end})\n"
           "hotfix.replace(t, 'x', function() end)\n")
    rep = client.request(hub, {"op": "apply", "timeout": 0.3, "scripts": [script(src, "meta.lua")]})
    assert not rep["ok"] and rep["err"].startswith("meta.lua:1: script still running after 0.3 s")
    con.close()


def test_eval_and_complete_for_the_repl(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    rep = client.request(hub, {"op": "eval", "session": "s1", "src": "1 + 1, 'x', {1, a = {b = 2}}"})
    assert rep["ok"] and rep["values"] == ["2", '"x"', "{1, a = {b = 2}}"]
    rep = client.request(hub, {"op": "eval", "session": "s1", "src": "mine = 5 print('hi', mine)"})
    assert rep["ok"] and rep["out"] == ["hi\t5"] and rep["n"] == 0
    assert client.request(hub, {"op": "eval", "session": "s1", "src": "mine"})["values"] == ["5"]
    assert client.request(hub, {"op": "eval", "session": "s2", "src": "mine"})["values"] == ["nil"]
    rep = client.request(hub, {"op": "eval", "session": "s1", "src": "error('bad')"})
    assert not rep["ok"] and rep["err"] == "repl:1: bad"
    rep = client.request(hub, {"op": "eval", "session": "s1", "src": "local t = {} t.t = t return t"})
    assert rep["values"][0].startswith("{t = <cycle table: 0x")
    rep = client.request(hub, {"op": "complete", "session": "s1", "expr": "_P.lua.CMD.de"})
    assert rep["names"] == ["deposit"]
    rep = client.request(hub, {"op": "complete", "session": "s1", "expr": "mi"})
    assert rep["names"] == ["mine"]
    con.close()


def test_dry_run_warns_about_tasks_running_replaced_code(node, client):
    con = Conn(node.port)
    hub = "%x" % agents(con)[0]
    park = ("local skynet = require 'skynet' "
            "_P.lua.CMD.park = function() skynet.error('park: sleeping') "
            "skynet.sleep(300) return 1 end")
    assert client.request(hub, {"op": "apply", "scripts": [script(park, "park.lua")]})["ok"]
    con.send('call %s "park"\n' % hub)
    node.wait_log("park: sleeping")  # a task now sleeps inside CMD.park
    other = Client(node.port)
    rep = other.request(hub, {"op": "apply", "dry": True, "scripts": [script(
        "_P.lua.CMD.park = function() return 2 end", "fix.lua")]})
    assert rep["ok"] and rep["busy"] == [{"path": "_P.lua.CMD.park", "tasks": 1}]
    assert rep["scripts"][0]["changes"][0]["path"] == "_P.lua.CMD.park"
    other.close(), con.close()
