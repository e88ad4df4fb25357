"""Helpers for the conformance checks: exact-byte exchanges with a console,
silence checks, and the standard node every module starts.

A check reads like a transcript: what a raw client sends, and the bytes (or a
tight pattern, where real skynet's values vary) it must receive."""
import os
import re
import socket
import time

import pytest

import nodes

# Services main.lua starts after the three agents. On real skynet they get
# :0000000d, :0000000e, :0000000f; checks reach them by their local names.
SERVICES = ("loopy", "sleeper", "named")

TERMINATOR = re.compile(rb"(?:^|\n)<CMD (?:OK|Error)>\n")

# Error messages carry the source prefix of the node's own Lua code
# (`/path/skynet.lua:735: `); checks match it with this pattern.
PREFIX = r"[^\n]*?:\d+: "


_unbootable = {}


def start(backend, agents=3, services=SERVICES, **kw):
    """Start a node; once a backend has failed to boot, fail at once after."""
    if backend in _unbootable:
        raise RuntimeError("%s node failed to boot earlier:\n%s" % (backend, _unbootable[backend]))
    try:
        return nodes.Node(backend, agents=agents, services=services, **kw).start()
    except (RuntimeError, OSError) as e:
        _unbootable[backend] = str(e)
        raise


def connect(node, timeout=5):
    """A console connection with the banner already checked; c.node is node."""
    c = nodes.Console(node.port, timeout=timeout)
    assert c.banner() == "Welcome to skynet console\n"
    c.node = node
    return c


INVALID = "Invalid command, type help for command list\n\n<CMD Error>\n"


def facts(node):
    """What the transcripts of node's release depend on, asked of the node
    once: console "1.4" (no dbgcmd, getenv, setenv, POST: skynet 1.4, or
    the sandbox's console_version = "1.4"), "1.5-1.7" (dbgcmd, but none
    of the others, which 1.8.0 added: or console_version = "1.7") or
    "1.8+" (see nodes.console_generation); release the same for a real
    skynet, whose lualib differs too (the sandbox emulates only the older
    consoles), else "head"; lua "5.4" or "5.5" (how numbers print: the
    sandbox prints as HEAD's Lua); jemalloc (jmem reports allocated bytes:
    the default build of skynet)."""
    if not hasattr(node, "facts"):
        console = nodes.console_generation(node)
        with nodes.Console(node.port) as c:
            jmem, _ = c.cmd("jmem")
        allocated = [line for line in jmem if line.startswith("stats.allocated\t")]
        node.facts = {
            "console": console,
            "release": console if node.backend == "skynet" and console != "1.8+" else "head",
            "lua": "5.5" if node.backend == "sandbox" or nodes.lua_foreign(node) else "5.4",
            "jemalloc": bool(allocated) and allocated[0].split()[1] != "0",
        }
    return node.facts


# the consoles with dbgcmd
DBGCMD = ("1.5-1.7", "1.8+")


def need(node_or_con, fact, value):
    """Skip the check unless the node's fact (see facts) has value (or one
    of the values, given a tuple)."""
    node = getattr(node_or_con, "node", node_or_con)
    have = facts(node)[fact]
    if have not in (value if isinstance(value, tuple) else (value,)):
        pytest.skip("%s is %s on this node, not %s" % (fact, have, value))


def call_nil(name):
    """the error of calling global name, a nil, as a regular expression:
    Lua 5.4.3 (skynet 1.5.0) words it its own way"""
    return (r"(?:attempt to call a nil value \(global '%s'\)|"
            r"global '%s' is not callable \(a nil value\))" % (name, name))


# the stack traceback skynet 1.4's inject adds after a script's error
TRACEBACK = r"stack traceback:\n(?:\t[^\n]*\n)+"


def traceback(c):
    """TRACEBACK where the node's release prints one after an inject error"""
    return TRACEBACK if facts(c.node)["release"] == "1.4" else ""


def pong(out):
    """whether out is the reply to a ping: the round trip in centiseconds
    (0 on an idle node; more on a busy machine), then <CMD OK>"""
    return re.fullmatch(r"\d+\n<CMD OK>\n", out) is not None


def reply(c, line, timeout=None):
    """Send one command line; return the exact reply text, terminator included."""
    c.send(line + "\n")
    deadline = time.time() + (timeout or c.timeout)
    while True:
        m = TERMINATOR.search(c.buf)
        if m:
            out, c.buf = c.buf[:m.end()], c.buf[m.end():]
            return out.decode("utf-8", "replace")
        c.fill(deadline)


def until(c, pattern, timeout=None):
    """Read until the regex (str) matches the buffered text; return the text
    through the end of the match."""
    rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
    deadline = time.time() + (timeout or c.timeout)
    while True:
        m = rx.search(c.buf)
        if m:
            out, c.buf = c.buf[:m.end()], c.buf[m.end():]
            return out.decode("utf-8", "replace")
        c.fill(deadline)


def silent(c, seconds):
    """Assert nothing arrives on c for `seconds` (the peer may stay open)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c.fill(deadline)
        except socket.timeout:
            break
    assert c.buf == b"", "expected silence, got %r" % c.buf


def closed(c, timeout=5):
    """Read to end of stream; return everything received. Fails on timeout."""
    deadline = time.time() + timeout
    while True:
        try:
            c.fill(deadline)
        except EOFError:
            out, c.buf = c.buf, b""
            return out.decode("utf-8", "replace")


def addresses(c):
    """Map launch command -> ':%08x' address, from `list`."""
    lines, status = c.cmd("list")
    assert status == "OK"
    out = {}
    for line in lines:
        addr, launch = line.split("\t", 1)
        out[launch] = addr
    return out


def hexaddr(addr):
    """':0000000a' -> 'a' (the bare-hex form)."""
    return "%x" % int(addr[1:], 16)


def script(text, name="script.lua"):
    """Write a node-side file for inject; return its path."""
    d = nodes.scratch_dir("inject-")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_for(predicate, timeout=5, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
