"""Helpers for the skyctl CLI tests: running the built binary (piped, or in a
pseudo-terminal for the repl), and tiny fake servers that misbehave in the
ways a real network does."""
import fcntl
import os
import re
import socket
import struct
import subprocess
import termios
import threading
import time

import pexpect

import nodes

A = ":0000000a"     # the first agent's address, as the repl's prompt shows it

LIST_LINE = b'call .launcher "LIST"\n'    # how skyctl asks a node for its services


def launcher_list(text):
    """what a console whose `list` prints text replies to LIST_LINE: the
    same table on one line, "1\t:hhhhhhhh:cmd\t...", then "n\t1"; a line
    that is not above the one before is in that one's launch arguments"""
    prev = [-1]

    def entry(m):
        h = int(m.group(2)[1:], 16)
        if h <= prev[0]:
            return m.group(0)
        prev[0] = h
        return (b"\t" if m.group(1) else b"") + m.group(2) + b":"
    return b"1\t" + re.sub(rb"(^|\n)(:[0-9a-f]{8})\t", entry, text.rstrip(b"\n")) + b"\nn\t1\n"


def skyctl(*args, node=None, env=None, tty=False, timeout=30, input=None):
    """Run skyctl; returns CompletedProcess with text stdout/stderr."""
    cmd = [nodes.SKYCTL]
    if node is not None:
        cmd += ["-H", node.address]
    e = dict(os.environ)    # nodes.py points HOME and XDG_* into a temp dir
    if tty:
        e["SKYCTL_FORCE_TTY"] = "1"
    e.update(env or {})
    return subprocess.run(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=e, timeout=timeout,
                          input=input)


def skyctl_at(state, *args, node=None, config=None, timeout=60, cwd=None):
    """Run skyctl with its audit log and journals under the dir state."""
    cmd = [nodes.SKYCTL]
    if node is not None:
        cmd += ["-H", node.address]
    if config is not None:
        cmd += ["--config", str(config)]
    env = dict(os.environ, XDG_STATE_HOME=str(state), NO_COLOR="1")
    return subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=timeout, cwd=cwd)


def write(tmp_path, name, text):
    """write a script file under tmp_path; return its path as a string"""
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def listed_commands():
    """the command names `skyctl --help` lists"""
    out = skyctl("--help").stdout
    block = out.split("Commands:\n")[1].split("\n\n")[0]
    return [line.split()[0] for line in block.splitlines()]


def spawn(node, env, *args):
    """skyctl repl in a pseudo-terminal (the env fixture gives env)"""
    return pexpect.spawn(nodes.SKYCTL, ["-H", node.address, "repl", *args], env=env,
                         encoding="utf-8", timeout=15, dimensions=(40, 200))


def prompt(c, service=A):
    c.expect(re.escape("%s> " % service if service else "> "))


def ask(c, line, pattern, service=A):
    """Type line; wait for pattern (a regex) and the next prompt."""
    c.send(line + "\r")
    c.expect(pattern)
    prompt(c, service)


def complete(c, text, added):
    """Type text and Tab; wait until the line shows the completion, added
    (what Tab appended to text)."""
    c.send(text + "\t")
    c.expect_exact(added)


def sleep_line(ticks):
    """a repl line that sleeps ticks (1/100 s) in the service, after logging
    "repl: sleeping" so node.wait_log can tell the service is in it"""
    return ('local skynet = require("skynet") skynet.error("repl: sleeping") '
            'skynet.sleep(%d)' % ticks)


def leave(c):
    """Ctrl-D; return the repl's exit status"""
    c.send("\x04")
    c.expect(pexpect.EOF)
    c.close()
    return c.exitstatus


def run_stdin(node, env, text, *args):
    """skyctl repl reading text from a pipe"""
    return subprocess.run([nodes.SKYCTL, "-H", node.address, "repl", *args], input=text,
                          capture_output=True, text=True, env=env, timeout=30)


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


def until_closed(c):
    """a FakeServer handler that reads and never answers, until the client
    closes (a node that is up but stuck)"""
    while c.recv(4096):
        pass


def read_line(c):
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(1)
        if not d:
            break
        buf += d
    return buf


def wait_sent(c, timeout=5):
    """until the peer has acknowledged everything sent on c (the kernel's
    send queue is empty), so what follows, a reset say, comes after it"""
    deadline = time.time() + timeout
    while struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0]:
        assert time.time() < deadline, "the peer did not acknowledge what was sent"
        time.sleep(0.01)


def reset(c):
    """close c with a TCP RST"""
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
