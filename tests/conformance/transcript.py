"""Helpers for the conformance checks: exact-byte exchanges with a console,
silence checks, and the standard node every module starts.

A check reads like a transcript: what a raw client sends, and the bytes (or a
tight pattern, where real skynet's values vary) it must receive."""
import os
import re
import socket
import tempfile
import time

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
    """A console connection with the banner already checked."""
    c = nodes.Console(node.port, timeout=timeout)
    assert c.banner() == "Welcome to skynet console\n"
    return c


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
        c._fill(deadline)


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
        c._fill(deadline)


def silent(c, seconds):
    """Assert nothing arrives on c for `seconds` (the peer may stay open)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c._fill(deadline)
        except socket.timeout:
            break
    assert c.buf == b"", "expected silence, got %r" % c.buf


def closed(c, timeout=5):
    """Read to end of stream; return everything received. Fails on timeout."""
    deadline = time.time() + timeout
    while True:
        try:
            c._fill(deadline)
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
    d = tempfile.mkdtemp(prefix="skyctl-inject-")
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
