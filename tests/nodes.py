"""Start and stop console nodes for the tests: the sandbox (always) and real
skynet (when SKYNET_ROOT names a built checkout). Both are started the same
way, from one skynet config file written per node."""
import atexit
import os
import re
import signal
import shutil
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# absolute: a node starts in a directory of its own (SKYCTL_BUILD=build works too)
BUILD = os.path.abspath(os.environ.get("SKYCTL_BUILD", os.path.join(ROOT, "build")))
SERVICES = os.path.join(ROOT, "sandbox", "services")
SKYCTL = os.path.join(BUILD, "skyctl")
SANDBOX = os.path.join(BUILD, "skyctl-sandbox")
SKYNET_ROOT = os.environ.get("SKYNET_ROOT")
# SKYCTL_SANDBOX_CONSOLE=1.4 (or 1.7): every sandbox node speaks the console
# of skynet 1.4 (or of 1.5 to 1.7; config key console_version), as `make
# test-matrix` runs it
SANDBOX_CONSOLE = os.environ.get("SKYCTL_SANDBOX_CONSOLE")

# The directories every process of a test run gets in place of the user's.
SESSION_DIR = None      # set by isolate_environment
SESSION_DIRS = {"HOME": "home", "XDG_CONFIG_HOME": "config", "XDG_STATE_HOME": "state",
                "XDG_DATA_HOME": "data", "XDG_CACHE_HOME": "cache"}


def isolate_environment():
    """Point HOME and the XDG dirs of this process, and so of every process it
    starts (skyctl, ssh, shells, nodes), into SESSION_DIR, removed at exit: no
    test reads the developer's config or writes audit logs, history or
    transcripts into their real ~/.local/state/skyctl.  Drop the SKYCTL_*
    settings a developer may have exported.  test_isolation.py proves it."""
    global SESSION_DIR
    SESSION_DIR = tempfile.mkdtemp(prefix="skyctl-tests-")
    for var, sub in SESSION_DIRS.items():
        os.environ[var] = os.path.join(SESSION_DIR, sub)
        os.makedirs(os.environ[var])
    for var in [v for v in os.environ if v.startswith("SKYCTL_") and v != "SKYCTL_BUILD"]:
        del os.environ[var]
    os.environ.pop("NO_COLOR", None)
    atexit.register(shutil.rmtree, SESSION_DIR, ignore_errors=True)


def scratch_dir(prefix):
    """A new directory inside SESSION_DIR, so it goes with the run."""
    return tempfile.mkdtemp(prefix=prefix, dir=SESSION_DIR)


# on import, so the tests, the benchmarks and any script that starts nodes
# with these helpers leave the user's own directories alone (the SKYCTL_*
# settings above are read first)
isolate_environment()


# Every node process started and not yet stopped, so none outlives the run
# even when a test process is interrupted before its fixtures finalize.
_RUNNING = set()


@atexit.register
def _kill_leftovers():
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _RUNNING.clear()


def backends():
    """The node kinds this run can start: sandbox, plus skynet if configured."""
    kinds = ["sandbox"]
    if SKYNET_ROOT:
        kinds.append("skynet")
    return kinds


def free_port():
    """A port nothing listens on now: bound and closed again, so by the time
    it is used something else may have taken it.  Fine for a port that must
    refuse connections; a node never takes its port this way (Node binds
    port 0 and reports the port it got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lua_string(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_file(path, ns):
    """write a node file naming nodes ns n1, n2, ... at path; return path"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("nodes = {\n%s}\n" % "".join(
        '  n%d = "%s",\n' % (i + 1, n.address) for i, n in enumerate(ns)))
    return path


class Node:
    """One node with a debug console on 127.0.0.1:port.

    agents: how many `agent` services main.lua starts; services: other
    service names from sandbox/services to start; env: extra config keys;
    port: the console's port, kept across restarts.  0 lets the system pick
    one (read back from main.lua's "main ready" line), race-free, but then
    `list` and `getenv console_port` show 0, unlike a deployed node, and the
    conformance suite pins both; so by default a free_port() is passed, and
    start() tries another when the console could not listen on it (taken
    between our check and the node's bind)."""

    def __init__(self, backend="sandbox", agents=3, services=(), env=None,
                 port=None, thread=2):
        self.backend = backend
        self.port = port
        self._pick_port = port is None
        self.agents = agents
        self.services = list(services)
        self.env = dict(env or {})
        self.thread = thread
        self.dir = scratch_dir("node-")
        self.proc = None
        self.log_lines = []
        self._settled = threading.Event()     # ready, or the console could not listen
        self._listening = False

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def config_text(self):
        keys = {
            "thread": self.thread,
            "harbor": 0,
            "start": "main",
            "console_port": self.port or 0,
            "agents": self.agents,
        }
        if self.services:
            keys["services"] = ",".join(self.services)
        if self.backend == "sandbox" and SANDBOX_CONSOLE:
            keys["console_version"] = SANDBOX_CONSOLE
        keys.update(self.env)
        lines = []
        if self.backend == "skynet":
            root = SKYNET_ROOT.rstrip("/") + "/"
            lines += [
                "root = %s" % lua_string(root),
                'bootstrap = "snlua bootstrap"',
                'luaservice = root.."service/?.lua;"..%s' % lua_string(SERVICES + "/?.lua"),
                'lualoader = root.."lualib/loader.lua"',
                'lua_path = root.."lualib/?.lua;"..root.."lualib/?/init.lua;"..%s'
                % lua_string(SERVICES + "/?.lua"),
                'lua_cpath = root.."luaclib/?.so"',
                'cpath = root.."cservice/?.so"',
            ]
        else:
            lines += [
                "luaservice = %s" % lua_string(SERVICES + "/?.lua"),
                "lua_path = %s" % lua_string(SERVICES + "/?.lua"),
            ]
        for k, v in keys.items():
            lines.append("%s = %s" % (k, v if isinstance(v, int) else lua_string(v)))
        return "\n".join(lines) + "\n"

    def command(self, config_path):
        if self.backend == "skynet":
            return [os.path.join(SKYNET_ROOT, "skynet"), config_path]
        return [SANDBOX, config_path]

    def start(self, timeout=10):
        for _ in range(5):
            if self.port is None:
                self.port = free_port()
            if self._launch(timeout):
                return self
            if not self._pick_port:
                break
            self.port = None
        raise RuntimeError("%s node could not listen on its console port; log:\n%s"
                           % (self.backend, self.log()))

    def _launch(self, timeout):
        """start the process; True once ready, False (stopped) if the console
        could not listen"""
        config = os.path.join(self.dir, "config")
        with open(config, "w") as f:
            f.write(self.config_text())
        cwd = SKYNET_ROOT if self.backend == "skynet" else self.dir
        self._settled.clear()
        self._listening = False
        self.proc = subprocess.Popen(self.command(config), cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        _RUNNING.add(self.proc)
        threading.Thread(target=self._read_log, args=(self.proc,), daemon=True).start()
        if not self._settled.wait(timeout):
            self.stop()
            raise RuntimeError("%s node did not start; log:\n%s" % (self.backend, self.log()))
        if not self._listening:
            self.stop()
        return self._listening

    def _read_log(self, proc):
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_lines.append(line)
            m = re.search(r"main ready, console at [\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._listening = True
                self._settled.set()
            elif "Listen error" in line:   # both backends' debug_console, port taken
                self._settled.set()

    def log(self):
        return "\n".join(self.log_lines)

    def log_mark(self):
        """where the log ends now: pass it to wait_log(after=) to wait for
        a line written from here on"""
        return len(self.log_lines)

    def wait_log(self, pattern, after=0, timeout=5):
        """Wait until a log line from index after on matches the regex;
        return the match.  How a test sees that a service is busy: loopy
        logs "loopy: spinning", sleeper "sleeper: napping"."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.log_lines[after:]:
                m = re.search(pattern, line)
                if m:
                    return m
            time.sleep(0.02)
        raise AssertionError("no log line matching %r within %g s, after line %d of:\n%s"
                             % (pattern, timeout, after, self.log()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _RUNNING.discard(self.proc)
        self.proc = None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _RUNNING.discard(self.proc)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Console:
    """A raw console connection, for transcript checks and for looking
    inside services (inject_client.Conn)."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def fill(self, deadline):
        self.sock.settimeout(max(0.001, deadline - time.time()))
        # ack at once: the console writes a line's text and its newline
        # apart, and a delayed ack holds the newline ~40 ms (Nagle)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("console closed the connection; got %r" % self.buf)
        self.buf += data

    def read_until(self, marker, timeout=None):
        """Read until marker (bytes or str) appears; return text through it."""
        if isinstance(marker, str):
            marker = marker.encode()
        deadline = time.time() + (timeout or self.timeout)
        while marker not in self.buf:
            self.fill(deadline)
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode("utf-8", "replace")

    def read_line(self, timeout=None):
        return self.read_until(b"\n", timeout)

    def banner(self):
        return self.read_line()

    def send(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.sock.sendall(line)

    def cmd_bytes(self, line, timeout=None):
        """Send one command; return (its output as bytes, 'OK' or 'Error')."""
        self.send(line + "\n")
        deadline = time.time() + (timeout or self.timeout)
        while True:
            m = re.search(rb"(?:^|\n)<CMD (OK|Error)>\n", self.buf)
            if m:
                out, self.buf = self.buf[:m.start()], self.buf[m.end():]
                return out, m.group(1).decode()
            self.fill(deadline)

    def cmd(self, line, timeout=None):
        """Send one command; return (output lines, 'OK' or 'Error')."""
        out, status = self.cmd_bytes(line, timeout)
        out = out.decode("utf-8", "replace")
        return (out.split("\n") if out else []), status

    def close(self):
        self.sock.close()

    def __enter__(self):
        self.banner()
        return self

    def __exit__(self, *exc):
        self.close()


def lua_foreign(node):
    """Whether node compiles what skyctl's Lua (5.4) rejects (Lua 5.5's
    `global`), asked as skyctl asks: its console compiles call's arguments"""
    with Console(node.port) as c:
        out, _ = c.cmd("call 0 (function() global x end)")
    return "Invalid arguments" not in "\n".join(out)


def console_generation(node):
    """Which console node has, from its help: "1.4" (no dbgcmd: skynet 1.4),
    "1.5-1.7" (dbgcmd, but no getenv, setenv or HTTP POST: 1.5.0 to 1.7.0,
    which 1.8.0 added) or "1.8+"; the sandbox's console_version = "1.4" or
    "1.7" speaks the older ones.  Asked once a node."""
    if not hasattr(node, "console_generation"):
        with Console(node.port) as c:
            out, _ = c.cmd("help")
        names = {line.split("\t")[0] for line in out}
        node.console_generation = "1.8+" if "getenv" in names else \
            "1.5-1.7" if "dbgcmd" in names else "1.4"
    return node.console_generation


def old_console(node):
    """Whether node's console lacks dbgcmd (skynet 1.4, or the sandbox's
    console_version = "1.4")"""
    return console_generation(node) == "1.4"


def harbor_pair(backend, agents=(3, 1), services=("named", "global"), env=None):
    """Start two nodes of one harbor network, as skynet's examples/config
    sets one up: harbor 1 is the master (`standalone`), harbor 2 joins it.
    Each runs `services` with global_name GLOBAL1 / GLOBAL2 and may start
    snax services (the `snax` path is sandbox/services). Return both,
    started; stop them with stop_pair."""
    master = "127.0.0.1:%d" % free_port()
    made = []
    try:
        for harbor, n in zip((1, 2), agents):
            keys = {"harbor": harbor, "master": master,
                    "address": "127.0.0.1:%d" % free_port(),
                    "global_name": "GLOBAL%d" % harbor,
                    "snax": SERVICES + "/?.lua"}
            if harbor == 1:
                keys["standalone"] = master
            keys.update(env or {})
            made.append(Node(backend, agents=n, services=services, env=keys))
            made[-1].start()
    except BaseException:
        stop_pair(made)
        raise
    return made


def stop_pair(pair):
    """Stop the nodes of harbor_pair, the joining one first."""
    for n in reversed(pair):
        n.stop()
