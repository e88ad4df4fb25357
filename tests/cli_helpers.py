"""Helpers for the skyctl CLI tests: running the built binary, and tiny fake
servers that misbehave in the ways a real network does."""
import os
import socket
import subprocess
import threading

import nodes


def skyctl(*args, node=None, env=None, tty=False, timeout=30, input=None):
    """Run skyctl; returns CompletedProcess with text stdout/stderr."""
    cmd = [nodes.SKYCTL]
    if node is not None:
        cmd += ["-H", node.address]
    e = dict(os.environ)
    for k in ("SKYCTL_HOST", "SKYCTL_FORCE_TTY", "NO_COLOR"):
        e.pop(k, None)
    e["XDG_CONFIG_HOME"] = "/nonexistent-skyctl-test"
    if tty:
        e["SKYCTL_FORCE_TTY"] = "1"
    e.update(env or {})
    return subprocess.run(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=e, timeout=timeout,
                          input=input)


def tsv(out):
    """stdout of a piped run as rows of fields"""
    return [line.split("\t") for line in out.splitlines()]


class FakeServer:
    """A TCP server on 127.0.0.1 whose every connection is handled by
    handler(sock) in a thread; closed on exit."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.conns = []
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.done.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._run, args=(c,), daemon=True).start()

    def _run(self, c):
        try:
            self.handler(c)
        except OSError:
            pass

    def close(self):
        self.done.set()
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_line(c):
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(1)
        if not d:
            break
        buf += d
    return buf


def reset(c):
    """close c with a TCP RST"""
    import struct
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
