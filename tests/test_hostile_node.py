"""A hostile node: a fake console (no skynet) that sends what a console
reached by anyone, or a service's own code, could send.  Each case checks
what the user sees (the exit status and the message), that skyctl's memory
stays bounded whatever the node sends (the child's peak RSS), and that no
byte a terminal would act on reaches stdout."""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

import nodes
from cli_helpers import LIST_LINE, FakeServer, launcher_list, read_line, reset, wait_sent

BANNER = b"Welcome to skynet console\n"
MB = 1 << 20
EVIL = b"X\x1b]0;PWN\x07\x1b[2J\x9b1m\xc2\x9b2J"  # OSC title, clear screen, C1 CSI (raw and UTF-8)
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")  # tab and newline aside


class Run:
    def __init__(self, rc, out, err, rss):
        self.returncode, self.stdout, self.stderr, self.peak_rss = rc, out, err, rss

    @property
    def message(self):
        return self.stderr.decode("utf-8", "replace")


# Starts skyctl (argv[1:]) and writes its peak RSS in KiB to argv[0]'s
# file.  A process forked from the test's own, big, one would count that
# one's memory in its peak (Linux keeps the high-water mark of the image it
# replaced at exec), so skyctl is forked from this small one.
LAUNCH = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 255)
"""


def run(*args, tty=False, timeout=60, env=None, input=b""):
    """skyctl with args (and input on stdin); stdout and stderr as bytes,
    and its peak resident memory in bytes"""
    e = dict(os.environ, **(env or {}))
    if tty:
        e.update(SKYCTL_FORCE_TTY="1", NO_COLOR="1")   # the header's bold is skyctl's own ESC
    with tempfile.TemporaryDirectory() as tmp:
        rss = os.path.join(tmp, "rss")
        with open(os.path.join(tmp, "in"), "w+b") as inp, \
                open(os.path.join(tmp, "out"), "w+b") as out, \
                open(os.path.join(tmp, "err"), "w+b") as err:
            inp.write(input)
            inp.seek(0)
            p = subprocess.Popen([sys.executable, "-c", LAUNCH, rss, nodes.SKYCTL] +
                                 [str(a) for a in args], stdout=out, stderr=err, stdin=inp,
                                 env=e, start_new_session=True)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
                raise
            out.seek(0)
            err.seek(0)
            with open(rss) as f:
                peak = int(f.read()) * 1024
            return Run(p.returncode, out.read(), err.read(), peak)


# AddressSanitizer's redzones and quarantine make memory no measure
SANITIZED = b"__asan_init" in open(nodes.SKYCTL, "rb").read()
_BASE = []


def baseline():
    """the peak RSS of a run that reads next to nothing (sanitizers make it
    big): bounds below are over this"""
    if not _BASE:
        with console({"list": b":0000000a\tsnlua agent\n"}) as srv:
            _BASE.append(run("-H", srv.address, "list").peak_rss)
    return _BASE[0]


def bounded(r, limit):
    """r's peak memory, over a run that reads nothing, is under limit bytes"""
    if not SANITIZED:
        assert r.peak_rss - baseline() < limit, (r.peak_rss, baseline())


def console(replies, seen=None):
    """A fake console: replies maps a command's first word to the output it
    gets (bytes, then <CMD OK>), or to a function(sock) that sends what it
    likes; the lines it is sent are appended to seen.  What "list" prints
    answers LIST_LINE too, as the console prints the launcher's table."""
    def handler(c):
        c.sendall(BANNER)
        while True:
            line = read_line(c)
            if not line:
                return
            line = line.rstrip(b"\n")
            if not line:
                continue    # the nudge
            if seen is not None:
                seen.append(line.decode())
            r = replies.get(line.split(b" ")[0].decode(), b"")
            if line + b"\n" == LIST_LINE:
                r = replies.get("list", b"")
                r = r if callable(r) else launcher_list(r)
            if callable(r):
                r(c)
                return
            c.sendall(r + (b"\n" if r and not r.endswith(b"\n") else b"") + b"<CMD OK>\n")
    return FakeServer(handler)


def no_control(out):
    assert not CONTROL.search(out), out[:400]


# ---- escape sequences in every field ----

LIST = (b":00000008\tsnlua bootstrap\n:00000009\tsnlua debug_console 8000\n"
        b":0000000a\tsnlua agent " + EVIL + b"\tcol\n")
REPLIES = {
    "list": LIST,
    "stat": b":0000000a\ttask:0\tmqlen:0\tcpu:0.1\tmessage:3\t" + EVIL,
    "mem": b":0000000a\t" + EVIL,
    "info": b"name\t" + EVIL + b"\nother\tline",
    "ping": b"3" + EVIL,
    "kill": lambda c: c.sendall(b"no " + EVIL + b" here\n<CMD Error>\n"),
    "raw": b"",
}


@pytest.mark.parametrize("args", [["list"], ["stat"], ["mem"], ["info", ":a"], ["ping", ":a"],
                                  ["raw", "info"], ["kill", ":a"]])
@pytest.mark.parametrize("tty", [False, True])
def test_escape_sequences_never_reach_the_terminal(args, tty):
    replies = dict(REPLIES, raw=REPLIES["info"])
    with console(replies) as srv:
        r = run("-H", srv.address, *args, tty=tty)
    if args[0] == "raw" and not tty:
        assert EVIL in r.stdout     # raw into a pipe: the node's bytes as they are
    else:
        no_control(r.stdout)
    no_control(r.stderr)
    shown = r.stdout + r.stderr
    if args[0] != "kill":
        assert r.returncode == 0, r.message
        if args[0] != "raw" or tty:
            assert b"X\\e]0;PWN\\x07\\e[2J" in shown, shown
    else:
        assert r.returncode == 1
        assert "no X\\e]0;PWN\\x07\\e[2J\\x9b1m\\u009b2J here" in r.message


def test_the_prompt_shows_console_replies_and_errors_escaped(tmp_path):
    with console(REPLIES) as srv:
        r = run("-H", srv.address, "repl", input=b"list\nkill :a\n",
                env={"XDG_STATE_HOME": str(tmp_path)})
    no_control(r.stdout)
    no_control(r.stderr)
    assert b"snlua agent X\\e]0;PWN" in r.stdout
    assert "kill :a: no X\\e]0;PWN" in r.message


def test_a_tab_in_a_field_cannot_forge_a_column():
    with console(REPLIES) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 0
    rows = r.stdout.decode().splitlines()
    assert [len(x.split("\t")) for x in rows] == [2, 2, 2]
    assert rows[2].endswith("\\tcol")


def test_json_is_valid_utf8_with_the_bytes_as_code_points():
    import json
    with console(REPLIES) as srv:
        r = run("-H", srv.address, "--json", "list")
    doc = json.loads(r.stdout.decode("utf-8"))
    assert doc["rows"][2]["name"].startswith("snlua agent X\x1b]0;PWN")


def test_nul_in_a_reply_is_shown_not_cut():
    with console({"list": b":0000000a\tsnlua a\x00gent\n:0000000b\tsnlua b"}) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 0
    assert r.stdout.decode().splitlines() == [":0000000a\tsnlua a\ufffdgent", ":0000000b\tsnlua b"]


def test_print_output_and_transcripts_are_escaped(tmp_path):
    """a session transcript holding what a node printed, replayed by history"""
    sessions = tmp_path / "skyctl" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "20260101-000000-1.log").write_bytes(
        b"# skyctl session 20260101-000000-1\n# started 2026-01-01T00:00:00Z\n# node n\n"
        b"# service :0000000a\n00:00:00.000 > print(1)\n00:00:00.001 < " + EVIL + b"\n")
    env = {"XDG_STATE_HOME": str(tmp_path)}
    for args in (["history"], ["history", "20260101-000000-1"], ["history", "--grep", "X"]):
        r = run(*args, env=env)
        assert r.returncode == 0, r.message
        no_control(r.stdout)
    assert b"X\\e]0;PWN" in r.stdout


# ---- forged list lines ----

FORGED = (b":00000008\tsnlua bootstrap\n:00000009\tsnlua debug_console 8000\n"
          b":0000000a\tsnlua agent x\n:00000009\tsnlua agent forged\n:0000000b\tsnlua agent y")


def test_a_forged_list_line_never_selects_the_console():
    seen = []
    with console({"list": FORGED, "kill": b":0000000a\tkilled"}, seen) as srv:
        r = run("-H", srv.address, "kill", "@agent")
    assert r.returncode == 5
    assert "the reply to list is ambiguous: :00000009 after :0000000a" in r.message
    assert not [x for x in seen if x.startswith("kill")]     # nothing was sent


def test_list_shows_a_forged_line_as_the_arguments_it_is_in():
    with console({"list": FORGED}) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 5
    assert r.stdout.decode().splitlines() == [
        ":00000008\tsnlua bootstrap", ":00000009\tsnlua debug_console 8000",
        ":0000000a\tsnlua agent x\\n:00000009\\tsnlua agent forged", ":0000000b\tsnlua agent y"]
    assert ("list: the reply to list is ambiguous: :00000009 after :0000000a (shown as part of "
            "the launch arguments of :0000000a)") in r.message


def test_a_newline_in_launch_arguments_is_one_service():
    seen = []
    text = b":00000008\tsnlua bootstrap\n:0000000a\tsnlua agent x\nhello\n:0000000b\tsnlua other"
    with console({"list": text, "kill": b""}, seen) as srv:
        ls = run("-H", srv.address, "list")
        kill = run("-H", srv.address, "kill", "@agent")
    assert ls.returncode == 0
    assert ls.stdout.decode().splitlines() == [
        ":00000008\tsnlua bootstrap", ":0000000a\tsnlua agent x\\nhello", ":0000000b\tsnlua other"]
    assert kill.returncode == 0, kill.message
    assert [x for x in seen if x.startswith("kill")] == ["kill a"]


# ---- bounded reads ----

def endless(chunk):
    def send(c):
        try:
            while True:
                c.sendall(chunk)
        except OSError:
            pass
    return send


@pytest.mark.parametrize("chunk", [b":0000000a\tsnlua agent\n", b"x" * 65536, b"\x00" * 4096],
                         ids=["lines", "one-line", "nul"])
def test_an_endless_reply_ends_at_the_bound(chunk):
    with console({"list": endless(chunk)}) as srv:
        r = run("-H", srv.address, "--max-reply", "4M", "list")
    assert r.returncode == 5
    assert "the node sent more than 4M without ending its reply (see --max-reply)" in r.message
    bounded(r, 24 * MB)
    no_control(r.stdout)


def test_the_default_bound_is_64m():
    with console({"list": endless(b"y" * 65536)}) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 5
    assert "more than 64M" in r.message
    bounded(r, 3 * 64 * MB)


@pytest.mark.parametrize("json", [False, True])
def test_a_big_reply_costs_about_twice_its_size(json):
    size = 40 * MB
    line = b"z" * 1023 + b"\n"
    reply = line * (size // len(line))
    with console({"big": reply}) as srv:
        r = run("-H", srv.address, *(["--json"] if json else []), "raw", "big")
    assert r.returncode == 0, r.message
    assert len(r.stdout) == len(reply) if not json else len(r.stdout) > len(reply)
    bounded(r, 2.5 * size)


@pytest.mark.parametrize("opts", [[], ["--json"], ["--sort", "name"]], ids=["text", "json", "sort"])
def test_a_huge_list_reply_has_a_bounded_cost(opts):
    """2 M short services in 36 MB: JSON is written as it is made, rows
    sorted in place"""
    lines = [b":%08x\tsnlua %c\n" % (i, b"cab"[i % 3]) for i in range(1, 2000001)]
    text = b"".join(lines)
    with console({"list": text}) as srv:
        r = run("-H", srv.address, "list", *opts)
    assert r.returncode == 0, r.message
    if opts == ["--json"]:
        assert r.stdout.count(b'"name": "snlua ') == 2000000
        assert r.stdout.endswith(b'"rows":2000000,"nodes":1,"status":0,"errors":[]}}\n')
    else:
        assert r.stdout == (text if not opts else
                            b"".join(sorted(lines, key=lambda l: l.split(b"\t")[1])))
    bounded(r, 2.5 * len(text))     # the reply, and a table's pointers into it


def test_a_local_script_has_a_bound_too():
    with console({"list": LIST}) as srv:
        r = run("-H", srv.address, "--max-reply", "1M", "inject", ":a", "/dev/zero")
    assert r.returncode == 6
    assert "/dev/zero: larger than 1048576 bytes (see --max-reply)" in r.message
    bounded(r, 16 * MB)


# ---- garbage, silence, drip, partial replies, resets ----

def test_drip_fed_reply_is_read_whole():
    def drip(c):
        for b in launcher_list(LIST) + b"<CMD OK>\n":
            c.sendall(bytes([b]))
        c.recv(1)
    with console({"list": drip}) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 0, r.message
    assert r.stdout.count(b"\n") == 3
    no_control(r.stdout)


@pytest.mark.parametrize("how,code,msg", [
    ("reset", 5, "connection closed in the middle of a reply"),
    ("close", 5, "connection closed in the middle of a reply"),
    ("silence", 4, "timed out after 0.5 s"),
])
def test_partial_reply_then(how, code, msg):
    def partial(c):
        c.sendall(b"1\t:0000000a:snlua " + EVIL)
        wait_sent(c)
        if how == "reset":
            reset(c)
        elif how == "close":
            c.close()
        else:
            while c.recv(4096):
                pass
    with console({"list": partial}) as srv:
        r = run("-H", srv.address, "--timeout", "0.5", "list")
    assert r.returncode == code
    assert msg in r.message
    no_control(r.stdout)
    no_control(r.stderr)


def test_garbage_banner_is_quoted_safely():
    def handler(c):
        c.sendall(b"\x1b[2J" + EVIL + b"\n")
        c.recv(1)
    with FakeServer(handler) as srv:
        r = run("-H", srv.address, "list")
    assert r.returncode == 5
    assert "not a skynet console" in r.message
    no_control(r.stderr)


# ---- small cases ----

def test_an_empty_host_is_a_usage_error():
    r = run("-H", "", "list", env={"SKYCTL_HOST": "127.0.0.1:1"})
    assert r.returncode == 2
    assert "-H wants HOST:PORT, not an empty string" in r.message


@pytest.mark.parametrize("size", ["12", "1T5", "2T"])
def test_max_reply_wants_a_size(size):
    r = run("--max-reply", size, "list")
    assert r.returncode == 2
    assert "--max-reply wants a size from 1K to 1T" in r.message


# ---- malformed engine replies ----

def engine(reply):
    """a fake console whose every agent request gets reply (a wire value)"""
    from inject_client import encode, escape
    return {"list": LIST, "dbgcmd": b"SKYCTL1 " + escape(encode(reply)).encode("latin-1")}


@pytest.mark.parametrize("reply,code,msg", [
    ({"ok": True, "results": {}}, 5, "the agent's reply has no result for this service"),
    ({"ok": True}, 1, "the agent's reply has no results"),
], ids=["empty-results", "no-results"])
def test_an_engine_reply_that_settles_nothing_is_an_error(tmp_path, reply, code, msg):
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    with console(engine(reply)) as srv:
        r = run("-H", srv.address, "inject", ":a", fix, env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == code, r.stdout + r.stderr
    assert msg in (r.stdout + r.stderr).decode()


# a peer's result as real skynet packed it: every type and size of skynet's
# serialization (tests/conformance/test_conformance_pack.py pins the bytes)
PEER_RESULT = {"ok": True, "addr": 11, "cost": 0.25, "scripts": [
    {"name": "fix", "id": 1, "out": ["caf\u00e9", "", "x" * 31, "y" * 32, "z" * 70000],
     "changes": [{"kind": "field", "path": "_P.lua.CMD.deposit", "what": "changed",
                  "old": "function agent.lua:9", "new": "function fix:3"}]}],
    "counts": [0, 1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -1, -2 ** 31, -2 ** 31 - 1,
               -2 ** 63, 0.5, True, False], "many": list(range(40)), "untracked": {}}


def inject_json(tmp_path, reply):
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    with console(engine(reply)) as srv:
        r = run("-H", srv.address, "--json", "inject", ":a,:8", fix,
                env={"XDG_STATE_HOME": str(tmp_path)})
    if not r.stdout:
        return r.returncode, r.message
    return r.returncode, [dict(t, node=None) for t in json.loads(r.stdout)["targets"]]


def test_a_packed_peer_reply_reads_as_the_same_reply_in_text(tmp_path):
    from inject_client import Base64Text, Packed, pack
    local = dict(PEER_RESULT, addr=10)
    text = inject_json(tmp_path, {"ok": True, "results": [local, PEER_RESULT]})
    packed = inject_json(tmp_path, {"ok": True, "results": [local, Packed(pack(PEER_RESULT))]})
    b64 = inject_json(tmp_path, {"ok": True, "results": [
        local, Base64Text(base64.b64encode(pack(PEER_RESULT)))]})
    assert packed == text and b64 == text and text[0] == 0
    assert text[1][1]["result"]["counts"][11] == -2 ** 63


@pytest.mark.parametrize("packed", [
    b"\x06",                                   # a table with no end
    b"\x06\x2c\x61",                           # a string cut short (5 bytes, 1 there)
    b"\x03" + bytes(8),                         # a pointer
    b"\x06" * 200 + b"\x00" * 200,              # nested past the bound
    b"\x1a\x01\x00\x00",                       # a number of no size skynet writes
    b"\x06\x00\x00",                           # a table, then a byte after it
    b"\xfe\x22\xff\xff\xff\x7f",                # a table of 2^31 - 1 values, none there
], ids=["unended", "short-string", "pointer", "deep", "bad-cookie", "trailing", "huge-array"])
def test_a_bad_packed_peer_reply_is_refused(tmp_path, packed):
    from inject_client import Base64Text, Packed
    for piece in (Packed(packed), Base64Text(base64.b64encode(packed))):
        code, shown = inject_json(tmp_path, {"ok": True, "results": [{"ok": True}, piece]})
        assert code == 5, shown
        assert [(t["status"], t["detail"].split(":")[0]) for t in shown] == \
            [("unknown", "unexpected reply")] * 2, shown


@pytest.mark.parametrize("text", [b"AAA", b"AA=A", b"AA===", b"A*AA", b"AA\x00A"],
                         ids=["short", "pad-inside", "pad-three", "bad-digit", "nul"])
def test_bad_base64_in_a_peer_reply_is_refused(tmp_path, text):
    from inject_client import Base64Text
    code, shown = inject_json(tmp_path, {"ok": True, "results": [{"ok": True}, Base64Text(text)]})
    assert code == 5, shown
    assert [(t["status"], t["detail"].split(":")[0]) for t in shown] == \
        [("unknown", "unexpected reply")] * 2, shown


def test_an_engine_reply_with_escapes_is_shown_safely(tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    bad = EVIL.decode("latin-1")
    reply = {"ok": True, "results": [{"ok": False, "err": "boom " + bad, "output": [bad, bad]}]}
    with console(engine(reply)) as srv:
        r = run("-H", srv.address, "inject", ":a", fix, env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 1
    no_control(r.stdout)
    no_control(r.stderr)
    assert b"boom X\\e]0;PWN" in r.stdout + r.stderr


@pytest.mark.parametrize("json", [False, True])
def test_a_huge_engine_reply_has_a_bounded_cost(tmp_path, json):
    """2 M tiny entries in 24 MB: values in lists, strings in the reply,
    JSON written as it is made"""
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    replies = engine({"ok": True, "results": [{"ok": True, "output": ["x"] * 2000000}]})
    with console(replies) as srv:
        r = run("-H", srv.address, "inject", ":a", fix, *(["--json"] if json else []),
                env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 0, r.message
    if json:
        assert r.stdout.count(b'"x"') == 2000000 and r.stdout.startswith(b'{"targets":[')
    bounded(r, 2.5 * len(replies["dbgcmd"]))


def test_an_engine_reply_denser_than_its_bound_is_refused(tmp_path):
    """{tttt...}: one byte of text a value, 16 bytes of memory each; the
    decoder stops at a value per 3 bytes received (a string takes 3), so
    the reply costs at most about 6 times its size, and says why"""
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    text = b"SKYCTL1 {" + b"t" * (16 * MB) + b"}"
    with console({"list": LIST, "dbgcmd": text}) as srv:
        r = run("-H", srv.address, "inject", ":a", fix, env={"XDG_STATE_HOME": str(tmp_path)})
    shown = (r.stdout + r.stderr).decode()
    assert r.returncode == 5, shown
    assert ":0000000a  unknown a reply of %d bytes with more values than skyctl holds for " \
        "that size (one per 3 bytes): may or may not be patched" % len(text) in shown, shown
    bounded(r, 6.5 * len(text))


def test_an_engine_reply_of_empty_strings_is_held(tmp_path):
    """the densest reply a real service makes (a script printing empty
    lines: 3 bytes a value) is decoded, not refused"""
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    replies = engine({"ok": True, "results": [{"ok": True, "output": [""] * 1000000}]})
    with console(replies) as srv:
        r = run("-H", srv.address, "inject", ":a", fix, env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 0, (r.stdout + r.stderr).decode()[-500:]


def test_an_endless_engine_reply_ends_at_the_bound(tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    with console({"list": LIST, "dbgcmd": endless(b"SKYCTL1 " + b"s" * 65536)}) as srv:
        r = run("-H", srv.address, "--max-reply", "2M", "inject", ":a", fix,
                env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 5
    # the target may or may not have run the script: it says so
    assert (":0000000a  unknown the node sent more than 2M without ending its reply "
            "(see --max-reply): may or may not be patched" in (r.stdout + r.stderr).decode())
    bounded(r, 16 * MB)


# ---- the audit log ----

def audited(tmp_path, *args):
    """kill :a on a fake console, with the state dir tmp_path/state; the
    lines the console was sent"""
    seen = []
    with console({"list": LIST, "kill": b":0000000a\tkilled"}, seen) as srv:
        r = run("-H", srv.address, *args, "kill", ":a",
                env={"XDG_STATE_HOME": str(tmp_path / "state")})
    return r, [x for x in seen if x.startswith("kill")]


def test_the_audit_log_is_never_opened_through_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("someone else's\n")
    victim.chmod(0o644)
    (tmp_path / "state" / "skyctl").mkdir(parents=True)
    (tmp_path / "state" / "skyctl" / "audit.log").symlink_to(victim)
    r, sent = audited(tmp_path)
    assert r.returncode == 6
    assert "audit.log: it is a symbolic link (skyctl does not follow one)" in r.message
    assert "nothing more is sent; --no-audit runs without the log" in r.message
    assert sent == []
    assert victim.read_text() == "someone else's\n" and victim.stat().st_mode & 0o777 == 0o644


def test_a_linked_state_directory_keeps_its_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "skyctl").symlink_to(shared)
    r, sent = audited(tmp_path)
    assert r.returncode == 0, r.message
    assert len(sent) == 1
    assert shared.stat().st_mode & 0o777 == 0o755
    assert (shared / "audit.log").stat().st_mode & 0o777 == 0o600


def test_an_existing_audit_log_keeps_its_mode(tmp_path):
    (tmp_path / "state" / "skyctl").mkdir(parents=True)
    log = tmp_path / "state" / "skyctl" / "audit.log"
    log.write_text("")
    log.chmod(0o640)
    r, sent = audited(tmp_path)
    assert r.returncode == 0, r.message
    assert log.stat().st_mode & 0o777 == 0o640 and log.read_text().count("\n") == 2


def test_no_audit_record_means_nothing_is_sent(tmp_path):
    (tmp_path / "state").write_text("not a directory")
    r, sent = audited(tmp_path)
    assert r.returncode == 6
    assert "cannot create the audit log's directory" in r.message
    assert sent == []


def test_no_audit_runs_without_the_log(tmp_path):
    (tmp_path / "state").write_text("not a directory")
    r, sent = audited(tmp_path, "--no-audit")
    assert r.returncode == 0, r.message
    assert "skyctl: warning: cannot create the audit log's directory" in r.message
    assert len(sent) == 1


def test_an_agent_command_sends_nothing_without_its_audit_record(tmp_path):
    fix = tmp_path / "fix.lua"
    fix.write_text("return 1\n")
    (tmp_path / "state").write_text("not a directory")
    seen = []
    reply = {"ok": True, "results": [{"ok": True}]}
    with console(engine(reply), seen) as srv:
        r = run("-H", srv.address, "inject", ":a", fix,
                env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert r.returncode == 6, r.message
    assert not [x for x in seen if x.startswith(("dbgcmd", "debug", "inject"))]


def test_history_files_are_never_opened_through_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("x")
    victim.chmod(0o644)
    hist = tmp_path / "state" / "skyctl" / "sessions"
    hist.mkdir(parents=True)
    (hist / "20260101-000000-1.log").symlink_to(victim)
    r = run("history", "20260101-000000-1", env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert b"x" not in r.stdout
    assert victim.stat().st_mode & 0o777 == 0o644


# ---- the same on a node (the sandbox, and real skynet with SKYNET_ROOT) ----

def test_launch_arguments_with_newlines_on_a_node(node, tmp_path):
    """the console prints them as they are (sorted by address, as skynet's
    debug_console does): the forging service's row shows them, selecting
    through the list fails, and a plain newline is one service; a tab
    before what `call` prints a service as, is shown as it is"""
    spawn = tmp_path / "spawn.lua"
    spawn.write_text('local skynet = require "skynet"\n'
                     'skynet.newservice("sleeper", "t\\t:00000009:snlua agent tabbed")\n'
                     'skynet.newservice("sleeper", "y\\nhello")\n'
                     'skynet.newservice("sleeper", "x\\n:00000009\\tsnlua agent forged")\n')
    env = {"XDG_STATE_HOME": str(tmp_path)}
    before = run("-H", node.address, "list")
    assert run("-H", node.address, "inject", ":a", spawn, env=env).returncode == 0
    ls = run("-H", node.address, "list")
    assert ls.returncode == 5
    rows = ls.stdout.decode().splitlines()
    assert rows[:-3] == before.stdout.decode().splitlines()
    assert rows[-3].endswith("\tsnlua sleeper t\\t:00000009:snlua agent tabbed")
    assert rows[-2].endswith("\tsnlua sleeper y\\nhello")
    assert rows[-1].endswith("\tsnlua sleeper x\\n:00000009\\tsnlua agent forged")
    kill = run("-H", node.address, "kill", "@sleeper", env=env)
    assert kill.returncode == 5
    assert "the reply to list is ambiguous: :00000009 after" in kill.message
    assert run("-H", node.address, "list").stdout.decode().splitlines() == rows  # all alive


def test_metrics_labels_carry_no_control_byte():
    """a service's name in a label is shown as everywhere else (\\e, \\x07):
    `skyctl metrics` prints to a terminal too, and Prometheus wants UTF-8"""
    replies = dict(REPLIES, mem=b":0000000a\t12.50 Kb (snlua " + EVIL + b" 1)")
    with console(replies) as srv:
        r = run("-H", srv.address, "metrics", "--per-service")
    assert r.returncode == 0, r.message
    no_control(r.stdout)
    r.stdout.decode("utf-8")
    assert b'kind="X\\\\e]0;PWN\\\\x07\\\\e[2J' in r.stdout, r.stdout[:600]
