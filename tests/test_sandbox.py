"""What only the sandbox node promises: how it starts (a skynet config,
include and $VAR in it, --demo), how fast, that SIGTERM ends it with exit
code 0 (even with a service stuck in a loop), that several nodes side by
side form a cluster of independent consoles, and that its modules, compiled
once for the node, keep their lines."""
import os
import re
import signal
import subprocess
import tempfile
import time

import nodes

READY_TIMEOUT = 10


def wait_ready(proc, timeout=READY_TIMEOUT):
    """Read the node's stdout until `main ready`; return the lines read."""
    lines = []
    deadline = time.time() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.time() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            if b"main ready" in buf:
                return buf.decode().splitlines()
        elif proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    raise AssertionError("node not ready:\n%s" % buf.decode(errors="replace"))


def terminate(proc, timeout=5):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("node ignored SIGTERM")


def start(args, cwd=None):
    proc = subprocess.Popen([nodes.SANDBOX] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
    nodes._RUNNING.add(proc)
    return proc


def test_usage():
    r = subprocess.run([nodes.SANDBOX], capture_output=True, timeout=5)
    assert r.returncode == 2 and b"usage" in r.stderr


def test_missing_config_fails():
    r = subprocess.run([nodes.SANDBOX, "/nonexistent/config"], capture_output=True, timeout=5)
    assert r.returncode == 1 and b"/nonexistent/config" in r.stderr


def test_starts_and_sigterm_exits_zero():
    node = nodes.Node("sandbox", port=0)   # how fast: bench/bench_core.py
    config = os.path.join(node.dir, "config")
    with open(config, "w") as f:
        f.write(node.config_text())
    proc = start([config])
    lines = wait_ready(proc)
    port = int(re.search(r"main ready, console at 127.0.0.1:(\d+)", "\n".join(lines)).group(1))
    assert any(l.startswith("[:00000009] Start debug console at 127.0.0.1:") for l in lines)
    assert lines[0] == "[:00000002] LAUNCH snlua bootstrap"
    with nodes.Console(port) as c:
        lines, status = c.cmd("ping :a")
        assert status == "OK" and lines[0].isdigit(), lines   # round trip, 1/100 s
    assert terminate(proc) == 0


def test_sigterm_with_a_stuck_service():
    node = nodes.Node("sandbox", services=("loopy",)).start()
    try:
        c = nodes.Console(node.port)
        c.banner()
        c.send('call .loopy "spin"\n')
        node.wait_log("loopy: spinning")
        proc = node.proc
        assert terminate(proc) == 0
        c.close()
    finally:
        node.kill()


def test_config_include_and_environment():
    d = nodes.scratch_dir("config-")
    port = nodes.free_port()
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub", "common"), "w") as f:
        f.write('luaservice = "%s/?.lua"\nlua_path = luaservice\n'
                'start = "main"\nagents = 1\n' % nodes.SERVICES)
    with open(os.path.join(d, "config"), "w") as f:
        f.write('include "sub/common"\nconsole_port = $SANDBOX_TEST_PORT\n'
                'greeting = "hi $SANDBOX_TEST_WHO"\nflag = true\nratio = 1.5\n'
                'root = "/ignored/"\ncpath = root .. "cservice/?.so"\n'
                'bootstrap = "snlua bootstrap"\n')
    env = dict(os.environ, SANDBOX_TEST_PORT=str(port), SANDBOX_TEST_WHO="you")
    proc = subprocess.Popen([nodes.SANDBOX, "config"], cwd=d, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    nodes._RUNNING.add(proc)
    try:
        wait_ready(proc)
        with nodes.Console(port) as c:
            assert c.cmd("getenv greeting") == (["greeting\thi you"], "OK")
            assert c.cmd("getenv flag") == (["flag\ttrue"], "OK")
            assert c.cmd("getenv ratio") == (["ratio\t1.5"], "OK")
            assert c.cmd("getenv agents") == (["agents\t1"], "OK")
            assert c.cmd("getenv cpath") == (["cpath\t/ignored/cservice/?.so"], "OK")
        assert terminate(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_mode():
    port = nodes.free_port()
    proc = start(["--demo", "--port", str(port)], cwd=tempfile.gettempdir())
    try:
        wait_ready(proc)
        with nodes.Console(port) as c:
            lines, status = c.cmd("list")
            assert status == "OK"
            launched = [l.split("\t")[1] for l in lines]
            for name in ("snlua agent 1", "snlua agent 3", "snlua loopy", "snlua sleeper",
                         "snlua named", "snlua debug_console 127.0.0.1 %d" % port):
                assert name in launched
        assert terminate(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_nodes_side_by_side():
    cluster = [nodes.Node("sandbox", agents=i + 1).start() for i in range(3)]
    try:
        for i, n in enumerate(cluster):
            with nodes.Console(n.port) as c:
                lines, status = c.cmd("list")
                assert status == "OK"
                assert sum("snlua agent" in l for l in lines) == i + 1
                assert c.cmd('call :a "deposit", %d' % (i + 10)) == (["1\t%d" % (i + 10), "n\t1"],
                                                                    "OK")
    finally:
        for n in cluster:
            n.stop()


def test_signal_logs_the_traceback():
    node = nodes.Node("sandbox", services=("loopy",)).start()
    try:
        with nodes.Console(node.port) as a, nodes.Console(node.port) as b:
            a.send('call .loopy "spin"\n')
            node.wait_log("loopy: spinning")
            assert b.cmd("signal .loopy") == ([], "OK")
            assert a.cmd("ping .loopy")[1] in ("OK", "Error")
        node.wait_log(r"signal 0")
        node.wait_log(r"loopy\.lua:\d+:")
    finally:
        node.stop()


def test_embedded_modules_keep_their_lines_in_every_service(tmp_path):
    """skynet's code cache compiles a module once for the node; the
    sandbox's services load the bytecode of its first compilation: an error
    raised in it still names the file and line, in the service that compiled
    it and in those that loaded it from the cache"""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sandbox", "lua",
                       "skynet.lua")
    with open(src) as f:
        line = next(i for i, text in enumerate(f, 1) if '"call to invalid address "' in text)
    script = tmp_path / "dead.lua"
    script.write_text('print(select(2, pcall(require("skynet").call, 0x7ffff0, "lua", "x")))\n')
    node = nodes.Node("sandbox", agents=3).start()
    try:
        with nodes.Console(node.port) as con:
            agents = [l.split("\t")[0] for l in con.cmd("list")[0] if "snlua agent" in l]
            assert len(agents) == 3
            for a in agents:
                assert con.cmd("inject %s %s" % (a, script)) == (
                    ["sandbox/skynet.lua:%d: call to invalid address :007ffff0" % line], "OK")
    finally:
        node.stop()
