"""The client side of skyctl's inject transport, in Python (the twin of
lua/wire.lua and the C client): the wire format, a console connection
(nodes.Console's), the debug-mode bootstrap and a Client that installs
the agent and sends requests.  test_inject_transport.py pins the protocol
with it; other tests use it to look inside services."""
import base64
import hashlib
import os
import re
import struct
import time

import nodes

LUA = os.path.join(nodes.ROOT, "lua")


# --- wire format (the Python twin of lua/wire.lua) ---------------------------

class Packed(bytes):
    """bytes skynet.packstring made, encoded as a peer sends them ("p")"""


class Base64Text(bytes):
    """the base64 text of such bytes, as a hub passes them on ("b")"""


def _enc(v, out):
    if v is None:
        out.append(b"~")
    elif v is True or v is False:
        out.append(b"t" if v else b"f")
    elif isinstance(v, int):
        out.append(b"i%d;" % v)
    elif isinstance(v, float):
        out.append(b"d%r;" % v)
    elif isinstance(v, Packed):
        out += [b"p%d:" % len(v), v]
    elif isinstance(v, Base64Text):
        out += [b"b%d:" % len(v), v]
    elif isinstance(v, (str, bytes)):
        b = v.encode() if isinstance(v, str) else v
        out += [b"s%d:" % len(b), b]
    elif isinstance(v, (list, tuple)):
        out.append(b"{")
        for i, x in enumerate(v):
            _enc(i + 1, out)
            _enc(x, out)
        out.append(b"}")
    else:
        out.append(b"{")
        for k, x in v.items():
            _enc(k, out)
            _enc(x, out)
        out.append(b"}")


def encode(v):
    out = []
    _enc(v, out)
    return b"".join(out)


# skynet's serialization (lualib-src/lua-seri.c): a byte, type | cookie << 3,
# then the payload, little endian; the "p" element of a peer's reply
_NUMBER = {1: "<B", 2: "<H", 4: "<i", 6: "<q", 8: "<d"}


def _pack_int(n):
    if n == 0:
        return bytes([2])
    for cookie, lo, hi in ((1, 0, 0xff), (2, 0, 0xffff), (4, -2 ** 31, 2 ** 31 - 1)):
        if lo <= n <= hi:
            return bytes([2 | cookie << 3]) + struct.pack(_NUMBER[cookie], n)
    return bytes([2 | 6 << 3]) + struct.pack("<q", n)


def pack(v):
    """v as skynet.packstring packs it (dicts in their own order)"""
    if v is None:
        return b"\0"
    if v is True or v is False:
        return bytes([1 | v << 3])
    if isinstance(v, int):
        return _pack_int(v)
    if isinstance(v, float):
        return bytes([2 | 8 << 3]) + struct.pack("<d", v)
    if isinstance(v, (str, bytes)):
        b = v.encode() if isinstance(v, str) else v
        if len(b) < 32:
            return bytes([4 | len(b) << 3]) + b
        if len(b) < 0x10000:
            return bytes([5 | 2 << 3]) + struct.pack("<H", len(b)) + b
        return bytes([5 | 4 << 3]) + struct.pack("<I", len(b)) + b
    items = list(v) if isinstance(v, (list, tuple)) else []
    head = bytes([6 | len(items) << 3]) if len(items) < 31 else \
        bytes([6 | 31 << 3]) + _pack_int(len(items))
    pairs = [] if items else [pack(k) + pack(x) for k, x in v.items()]
    return head + b"".join(pack(x) for x in items) + b"".join(pairs) + b"\0"


def _unpack(s, i):
    b = s[i]
    kind, cookie, i = b & 7, b >> 3, i + 1
    if kind == 0:
        return None, i
    if kind == 1:
        return bool(cookie), i
    if kind == 2:
        if cookie == 0:
            return 0, i
        fmt = _NUMBER[cookie]
        return struct.unpack_from(fmt, s, i)[0], i + struct.calcsize(fmt)
    if kind in (4, 5):
        n = cookie
        if kind == 5:
            n = struct.unpack_from("<H" if cookie == 2 else "<I", s, i)[0]
            i += cookie
        return s[i:i + n].decode("utf-8", "replace"), i + n
    if kind == 6:
        size = cookie
        if cookie == 31:
            size, i = _unpack(s, i)
        d = {}
        for k in range(1, size + 1):
            x, i = _unpack(s, i)
            if x is not None:
                d[k] = x
        while True:
            k, i = _unpack(s, i)
            if k is None:
                break
            d[k], i = _unpack(s, i)
        return _listed(d), i
    raise ValueError("bad packed byte %d at %d" % (b, i - 1))


def _listed(d):
    if sorted(d) == list(range(1, len(d) + 1)):  # {} decodes as []
        return [d[k] for k in range(1, len(d) + 1)]
    return d


def _dec(s, i):
    c = s[i:i + 1]
    if c in (b"p", b"b"):  # b: the packed bytes in base64
        j = s.index(b":", i)
        n = int(s[i + 1:j])
        packed = s[j + 1:j + 1 + n]
        if c == b"b":
            packed = base64.b64decode(packed, validate=True)
        v, end = _unpack(packed, 0)
        assert end == len(packed)
        return v, j + 1 + n
    if c == b"s":
        j = s.index(b":", i)
        n = int(s[i + 1:j])
        return s[j + 1:j + 1 + n].decode("utf-8", "replace"), j + 1 + n
    if c in (b"i", b"d"):
        j = s.index(b";", i)
        t = s[i + 1:j]
        return (int(t) if c == b"i" else float("nan") if t == b"0/0" else float(t)), j + 1
    if c == b"{":
        d, i = {}, i + 1
        while s[i:i + 1] != b"}":
            k, i = _dec(s, i)
            d[k], i = _dec(s, i)
        return _listed(d), i + 1
    if c in (b"t", b"f", b"~"):
        return {b"t": True, b"f": False, b"~": None}[c], i + 1
    raise ValueError("bad byte %r at %d" % (c, i))


def decode(s):
    v, i = _dec(s, 0)
    assert i == len(s)
    return v


def escape(b, ws=True):
    pat = rb"[%\x00\s]" if ws else rb"[%\x00\r\n]"
    return re.sub(pat, lambda m: b"%%%02x" % m.group(0)[0], b).decode("latin-1")


def unescape(s):
    return re.sub(rb"%([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), s)


# --- a console connection ----------------------------------------------------

class Conn(nodes.Console):
    """nodes.Console with its banner read, whose replies are one text
    (latin-1: the agent's escaped bytes as they came)"""

    def __init__(self, port, timeout=10):
        super().__init__(port, timeout)
        self.banner()

    def cmd(self, line, timeout=None):     # None: the connection's own (self.timeout)
        out, status = self.cmd_bytes(line, timeout)
        return out.decode("latin-1"), status


# --- the client side of the transport ----------------------------------------

def _read(name):
    with open(os.path.join(LUA, name), "rb") as f:
        return f.read()


AGENT, WIRE, ENGINE = _read("agent.lua"), _read("wire.lua"), _read("engine.lua")
APPLY, JOURNAL = _read("apply.lua"), _read("journal.lua")
ROLLBACK, SET = _read("rollback.lua"), _read("set.lua")
VERSION = hashlib.sha256(AGENT + WIRE + ENGINE + APPLY + JOURNAL + ROLLBACK + SET).hexdigest()[:16]
BOOT = [l for l in _read("boot.lua").decode().split("\n") if l and not l.startswith("--")]


class BootError(Exception):
    pass


def route(conn):
    """How conn's console reaches a debug command: "dbgcmd", or "info" on a
    console without dbgcmd (skynet 1.4), through the route lua/boot.lua's
    third line puts in a service; asked once per connection"""
    if not hasattr(conn, "route"):
        conn.route = "dbgcmd" if "\ndbgcmd\t" in "\n" + conn.cmd("help")[0] else "info"
    return conn.route


def bootstrap(port, hexaddr, once=False, timeout=1.0):
    """Register the loader with one debug-mode line (and the info route where
    the console needs it), poking the service with `ping` from a second
    connection so the line runs at once; return the second connection, in
    normal mode."""
    c, poke = Conn(port), Conn(port)
    try:
        lines = ([BOOT[2]] if route(poke) == "info" else []) + [BOOT[1 if once else 0]]
        c.send("debug %s\n%s\ncont\n" % (hexaddr, "\n".join(lines)))
        deadline = time.time() + timeout
        while not re.search(rb"<CMD (OK|Error)>\n", c.buf):
            if time.time() > deadline:
                raise BootError("service :%s is being debugged by another session" % hexaddr)
            poke.cmd("ping " + hexaddr, timeout=max(0.01, deadline - time.time()))
            try:
                c.fill(min(deadline, time.time() + 0.001))
            except TimeoutError:
                pass
        out = c.buf.decode("latin-1")
        if "attach failed" in out:
            raise BootError("service :%s is being debugged by another session" % hexaddr)
        assert "<CMD OK>" in out and "(debug)" not in out, out
        return poke
    except Exception:
        poke.close()
        raise
    finally:
        c.close()


def dbgcmd(conn, hexaddr, cmd, *args):
    out, status = conn.cmd("%s %s %s %s" % (route(conn), hexaddr, cmd, " ".join(args)))
    if status != "OK" or not out.startswith("SKYCTL1 "):   # info: a service not routed yet
        return None, out
    line = out.strip("\n")
    assert "\n" not in line and line.startswith("SKYCTL1 "), line[:300]
    if line.startswith("SKYCTL1 upgrade "):
        return {"upgrade": line[16:]}, None
    return decode(unescape(line[8:].encode("latin-1"))), None


class Client:
    def __init__(self, port, version=VERSION, agent=AGENT):
        self.port, self.version, self.agent = port, version, agent
        self.conn = Conn(port)
        self.boots = 0

    def load_args(self, mode):
        return (escape(self.agent), mode, self.version, escape(WIRE), escape(ENGINE),
                escape(APPLY), escape(JOURNAL), escape(ROLLBACK), escape(SET))

    def request(self, hub, req, once=False):
        wire_req = escape(encode(req))
        if once:
            poke = bootstrap(self.port, hub, once=True)
            try:
                rep, err = dbgcmd(poke, hub, "SKYCTL_ONCE", *self.load_args("once"), wire_req)
            finally:
                poke.close()
            assert rep is not None, err
            return rep
        for _ in range(3):
            rep, err = dbgcmd(self.conn, hub, "SKYCTL1", self.version, wire_req)
            if rep is not None and not rep.get("upgrade"):
                return rep
            loaded, err = dbgcmd(self.conn, hub, "SKYCTL", *self.load_args("load"))
            if loaded is None:
                self.boots += 1
                bootstrap(self.port, hub).close()
        raise AssertionError("agent not installed: %s" % err)

    def close(self):
        self.conn.close()


def script(src, name="fix.lua"):
    return {"name": name, "src": src, "sha": hashlib.sha256(src.encode()).hexdigest()}


def call(conn, hexaddr, expr):
    out, status = conn.cmd("call %s %s" % (hexaddr, expr))
    assert status == "OK", out
    return out


def agents(conn):
    out, _ = conn.cmd("list")
    return [int(l.split("\t")[0][1:], 16) for l in out.split("\n") if "\tsnlua agent" in l]


def journal(node, hexaddr):
    """the patch journal of service hexaddr of node, read through the agent"""
    c = Client(node.port)
    try:
        return c.request(hexaddr, {"op": "journal"})["journal"]
    finally:
        c.close()
