"""Benchmark: agent batches and probes over 10,000 services of one node,
and 8 such nodes at once (issue 15).

For each command -- inject (first contact, then with the agent in place),
diff, patches, rollback, top --once, stuck, list -- it prints skyctl's
wall time, its CPU (user + system) and peak RSS, beside a floor measured in
the same run: the same work fanned out from one service inside the node (a
stock `inject` of a script that the node reads from disk: for an inject,
the same script after a bare hotfix.replace, which a stock inject lacks),
with skyctl's fan-out width (8 at once); for list, the console's own
`list` read from a bare socket.  Each figure is the median of 3 runs of
skyctl and its floor in turn (list 5; first contact on fresh nodes: see
first_contact), each after a full collection of every service (see
collect), and the time of one after an inject in place of either.
Beside inject it prints what tracking alone costs: the same RUN with the
script between a bare snapshot of the code tables and a compare
(TRACK_BEFORE).  Then the same inject into N
nodes at once (`skyctl -a`), N as many as the machine's memory holds (at
most 8), measured as one node's is (the median of 3 runs, each after a
full collection of every service); and as many nodes as the machine has
cores, each with one worker thread, against one such node alone: nodes
of two threads (skynet's examples' and these benches') each keep two
cores busy, so N of them on a 2-core machine take N times one's time
whatever skyctl does.  Each N-node figure is also given against what the
cores allow: N nodes' work, each on as many cores as it has threads.

Targets: every batch command within 2x of its floor; skyctl CPU <= 0.3 s
and peak RSS <= 50 MB per 10,000 targets; N nodes within 1.5x of one node's
wall time.  Every figure is printed; a missed target is marked MISSED.
Sandbox always; real skynet too when SKYNET_ROOT is set.
Run: SKYCTL_BUILD=build python3 bench/bench_batch10k.py  (BENCH_SERVICES,
BENCH_NODES override 10000 and the node count)"""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402

SERVICES = int(os.environ.get("BENCH_SERVICES", "10000"))
PAR = 8  # skyctl's fan-out width (batch.c's default)

# the floor: stock RUN (or a debug command) in every agent, PAR at once,
# from one service inside the node; prints nothing, the console times it
FLOOR = r"""
local skynet = require "skynet"
local kind, path = ...
local src
if path then
    local f = assert(io.open(path))
    src = f:read("a")
    f:close()
end
local targets = {}
for addr, name in pairs(skynet.call(".launcher", "lua", "LIST")) do
    if name:match("^snlua agent ") then
        targets[#targets + 1] = tonumber(addr:sub(2), 16)
    end
end
local n, left, token, failed = 0, %d, {}, nil
local function work()
    while n < #targets do
        n = n + 1
        local t = targets[n]
        if kind == "run" then
            local ok, out = skynet.call(t, "debug", "RUN", src, "fix.lua")
            if not ok then
                failed = failed or ("%%x: %%s"):format(t, out)
            end
        else -- stat: what top asks each service (stuck: STAT alone)
            skynet.call(t, "debug", "STAT")
            if kind == "stat" then
                skynet.call(t, "debug", "MEM")
            end
        end
    end
    left = left - 1
    if left == 0 then
        skynet.wakeup(token)
    end
end
for _ = 1, %d do
    skynet.fork(work)
end
skynet.wait(token)
assert(not failed, failed) -- a floor that did not do the work is none
""" % (PAR, PAR)

# What a stock inject lacks to run the bench's script: hotfix.replace,
# joining the new function's upvalues to the old one's as skyctl's does
# (without its checks).  The floor's script begins with it, so the floor
# patches every service as skyctl does (a script that stopped at a nil
# hotfix would be a floor of compiling and raising an error).
HOTFIX = r"""
local getupvalue, upvaluejoin = debug.getupvalue, debug.upvaluejoin
local hotfix = { replace = function(t, k, new)
    local old = t[k]
    for i = 1, 255 do
        local name = getupvalue(new, i)
        if not name then
            break
        end
        for j = 1, 255 do
            local n = getupvalue(old, j)
            if not n then
                break
            elseif n == name then
                upvaluejoin(new, i, old, j)
            end
        end
    end
    t[k] = new
    return old
end }
"""

# What copying every code table costs: the same RUN with the script
# between a bare snapshot of all of them (the roots and depth of
# lua/apply.lua's track, which an inject now takes only as far as its
# script reaches: package.loaded and its modules, _G, the _P tables and the
# tables in their handlers' upvalues, _U) and a compare against it; no
# engine, no journal, no reply.  A tracker for scale, not a correct one: no
# entry limits, no undo, hotfix.replace without checks.
TRACK_BEFORE = r"""
local next, type, rawequal, getupvalue = next, type, rawequal, debug.getupvalue
local loaded = package.loaded
local F, at, count, order, seen, fn, no = {}, {}, {}, {}, {}, 0, 0
local qv, qd, qn, qi, claimed = {}, {}, 0, 1, { [_G] = true }
for _, m in next, loaded do
    if type(m) == "table" then
        claimed[m] = true
    end
end
local function root(t, d)
    if not seen[t] then
        seen[t], qn = true, qn + 1
        qv[qn], qd[qn] = t, d
    end
end
local function walk()
    while qi <= qn do
        local v, d = qv[qi], qd[qi]
        qi = qi + 1
        local start = fn
        for k, x in next, v do
            F[fn + 1], F[fn + 2], fn = k, x, fn + 2
            if d < 3 and type(x) == "table" and not seen[x] and (not claimed[x] or v == loaded) then
                seen[x], qn = true, qn + 1
                qv[qn], qd[qn] = x, d + 1
            end
        end
        no = no + 1
        order[no], at[v], count[v] = v, start, fn - start
    end
end
for _, tables in next, _P do
    for _, t in next, tables do
        if type(t) == "table" and not claimed[t] then
            root(t, 1)
        end
    end
end
root(loaded, 0)
root(_G, 0)
walk()
for _, tables in next, _P do
    for _, t in next, tables do
        if type(t) == "table" then
            for _, f in next, t do
                for i = 1, type(f) == "function" and 255 or 0 do
                    local name, v = getupvalue(f, i)
                    if name == nil then
                        break
                    elseif type(v) == "table" and not claimed[v] then
                        root(v, 1)
                    end
                end
            end
        end
    end
end
for _, t in next, _U do
    if type(t) == "table" then
        root(t, 3)
    end
end
walk()
do
"""
TRACK_AFTER = r"""
end
local changed = 0
for j = 1, no do
    local t = order[j]
    local i, last = at[t] + 1, at[t] + count[t]
    for k, v in next, t do
        if i > last or not rawequal(F[i], k) or not rawequal(F[i + 1], v) then
            i = -1
            break
        end
        i = i + 2
    end
    if i ~= last + 1 then
        changed = changed + 1
    end
end
print(changed, no, fn // 2)
"""

# patches' floor: each service's journal listed, a line an entry with what
# `patches` shows of it (lua/engine.lua's entry slots: id, name, sha256,
# batch, time, who, state; and the number of changes)
JOURNAL = """local S = package.loaded.skyctl
for _, e in ipairs(S and S.journal or {}) do
    print(e[1], e[2], e[3], e[4], e[5], e[6], e[8], #(e[9] or {}))
end
"""


def script(tag):
    body = ("-- %s %s\n" % (tag, "x" * 60)) * 26
    return body + """local CMD = _P.lua.CMD
hotfix.replace(CMD, "deposit", function(n)
    assert(n > 0, "deposit must be positive")
    return n
end)
"""


def floor_script(tag):
    """the script as the floor runs it: after HOTFIX, and on another handler,
    so that the floor's patches leave skyctl's journal in place (a rollback
    after them would find its function changed since)"""
    return HOTFIX + script(tag).replace('"deposit"', '"balance"')


def skyctl_rusage(args, env):
    """wall, cpu and peak RSS of one skyctl run: the cpu from wait4, the
    peak from GNU time, as a child's own wait4 figure starts at the RSS of
    the process that spawned it (this Python's 15-20 MB)"""
    with tempfile.NamedTemporaryFile("r") as peak:
        t = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", peak.name, nodes.SKYCTL] + args,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        kb = peak.read().split()  # "Command exited with non-zero status N" comes first
    err = p.stderr.read().decode()
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # printed with the figures, which stand
        print("   skyctl %s: exit %d: %s" % (" ".join(args[-3:]), code, err.strip()[-300:]))
    return wall, ru.ru_utime + ru.ru_stime, int(kb[-1]) / 1024.0, code


def floor(con, host, path, kind, arg=None):
    t = time.perf_counter()
    out, status = con.cmd("inject %x %s %s%s" % (host, path, kind, " " + arg if arg else ""),
                          timeout=600)
    dt = time.perf_counter() - t
    if status != "OK":
        raise RuntimeError("floor %s: %s" % (kind, out))
    return dt


def collect(con):
    """a full garbage collection of every service (the console's gc): each
    timed run starts from heaps that hold no garbage of the run before
    (skyctl's requests through SKYCTLP leave theirs to the services'
    collectors, where a floor's RUN collects); returns its time"""
    t = time.perf_counter()
    out, status = con.cmd("gc", timeout=600)
    if status != "OK":
        raise RuntimeError("gc: %s" % out)
    return time.perf_counter() - t


def console_list(port):
    """list's floor: the console's own `list`, read to its end from a bare
    socket by a careful client (TCP_NODELAY, TCP_QUICKACK before each read:
    without, Nagle meets delayed ACK, ../shared/PROTOCOL.md): the console
    renders and sends every line for any client, so none can do with less.
    Timed from the connect, as skyctl's run is."""
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.settimeout(60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def recv():
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            return sock.recv(1 << 20)
        buf = b""
        while b"\n" not in buf:  # the banner
            buf += recv()
        buf = b""
        sock.sendall(b"list\n")
        while not buf.endswith(b"<CMD OK>\n"):
            chunk = recv()
            if not chunk:
                raise RuntimeError("list's floor: the console closed the connection")
            buf += chunk
        return time.perf_counter() - t


def host_of(con):
    out, _ = con.cmd("list")
    return next(int(line.split("\t")[0][1:], 16) for line in out if line.endswith("snlua main"))


def mark(ok):
    return "" if ok else "  MISSED"


FIRST_ROUNDS = 3  # first contact: the median of these, each side on fresh nodes


def on_fresh_node(backend, work):
    """work(node, con) on a node of SERVICES agents started for it, after a
    full collection of its services; returns what work returns"""
    node = nodes.Node(backend, agents=SERVICES).start(timeout=600)
    try:
        con = nodes.Console(node.port, timeout=600)
        con.banner()
        collect(con)
        try:
            return work(node, con)
        finally:
            con.close()
    finally:
        node.stop()


def first_contact(backend, files, env, node, con):
    """skyctl's first request is each service's first debug RUN, which
    loads skynet.inject (the node reads it from disk, in every service);
    the floors measured after it find it loaded.  So first contact is
    compared with a stock inject into a fresh node of the same size, whose
    services have run none either.  One run of either reads up to 1.5x
    another, so each is taken FIRST_ROUNDS times, in turn, each on a node of
    its own (node, con: the one the rows after it use, its first round's);
    returns skyctl's median run (wall, cpu, rss, code) and the floor's
    median time."""
    def ours(n, c):
        return skyctl_rusage(["-H", n.address, "inject", "@agent", files["fix1"]], env)

    def base(n, c):
        return floor(c, host_of(c), files["floor"], "run", files["fix1.floor"])
    runs, floors = [], []
    for i in range(FIRST_ROUNDS):
        floors.append(on_fresh_node(backend, base))
        if i == 0:
            collect(con)
            runs.append(ours(node, con))
        else:
            runs.append(on_fresh_node(backend, ours))
    return sorted(runs)[len(runs) // 2], sorted(floors)[len(floors) // 2]


def one_node(backend, files, env):
    print("-- %s, one node of %d services" % (backend, SERVICES), flush=True)
    t = time.perf_counter()
    node = nodes.Node(backend, agents=SERVICES).start(timeout=600)
    print("   (node started in %.1f s)" % (time.perf_counter() - t))
    try:
        con = nodes.Console(node.port, timeout=600)
        con.banner()
        host = host_of(con)
        h = ["-H", node.address]
        (wall, cpu, rss, code), cold = first_contact(backend, files, env, node, con)
        rows = [("inject, first contact", wall, cold, cpu, rss, code)]
        # the floor into this node's services, now that skyctl has been
        warm = floor(con, host, files["floor"], "run", files["fix1.floor"])
        # (name, skyctl's arguments for run i, floor kind, its script for run
        # i, runs): the median of the runs of each, skyctl and floor in turn
        # (one run of either reads up to 1.5x another; a read-only command
        # of a few ms, up to 4x)
        cases = [
            ("inject, agent in place", lambda i: ["inject", "@agent", files["fix2.%d" % i]],
             "run", lambda i: files["fix2.floor"], 3),
            ("diff", lambda i: ["diff", "@agent", files["fix3"]], "run",
             lambda i: files["fix3.floor"], 3),
            ("patches", lambda i: ["patches", "@agent"], "run", lambda i: files["journal"], 3),
            ("rollback", lambda i: ["rollback", "@agent"], "run", lambda i: files["fix3.floor"],
             3),
            ("top --once -d 0.1", lambda i: ["top", "--once", "-d", "0.1"], "stat",
             lambda i: None, 3),
            ("stuck", lambda i: ["stuck"], "statonly", lambda i: None, 3),
            ("list", lambda i: ["list"], "list", lambda i: None, 5),
        ]
        after = {}  # a full collection's time after each side's inject in place
        for name, args, kind, arg, n in cases:
            runs = []
            for i in range(n):
                collect(con)
                ours = skyctl_rusage(h + args(i), env)
                left = collect(con)
                base = console_list(node.port) if kind == "list" else \
                    floor(con, host, files["floor"], kind, arg(i))
                if name == "inject, agent in place":
                    after.setdefault("skyctl", []).append(left)
                    after.setdefault("floor", []).append(collect(con))
                runs.append((ours, base))
            (wall, cpu, rss, code), _ = sorted(runs, key=lambda r: r[0][0])[len(runs) // 2]
            base = sorted(r[1] for r in runs)[len(runs) // 2]
            if name.startswith("top"):
                base = 2 * base + 0.1  # two samples, 0.1 s apart
            elif name == "stuck":
                base = 2 * base + 0.5  # two samples half a second apart (cmd-stuck.c)
            rows.append((name, wall, base, cpu, rss, code))
        # last: it changes every service
        tracked = floor(con, host, files["floor"], "run", files["tracked"])
        con.close()
    finally:
        node.stop()
    print("   %-26s %9s %9s %6s %9s %8s" % ("command", "skyctl", "floor", "ratio", "cpu", "peak"))
    per = SERVICES / 10000.0
    for name, wall, base, cpu, rss, code in rows:
        ok = wall <= 2 * base and cpu <= 0.3 * max(per, 1) and \
            rss <= 50 * max(per, 1) and code in (0, 1)
        print("   %-26s %8.2fs %8.2fs %5.1fx %8.3fs %6.1fMB%s%s" % (
            name, wall, base, wall / base if base > 0 else float("inf"), cpu, rss,
            " exit %d" % code if code else "", mark(ok)))
    print("   first contact: the median of %d runs of either side, each into the services of a "
          "fresh node (each one's first debug RUN, as skyctl's is); the floor into this node's, "
          "once skyctl had been: %.2fs" % (FIRST_ROUNDS, warm))
    print("   a gc of every service after an inject in place: %.2fs after skyctl's, %.2fs after "
          "the floor's (what skyctl leaves to the services' collectors; the floor's RUN "
          "collects)" % tuple(sorted(after[k])[len(after[k]) // 2] for k in ("skyctl", "floor")))
    inject = next(r for r in rows if r[0] == "inject, agent in place")
    print("   tracking alone (a bare snapshot and compare of the code tables around the same RUN):"
          " %.2fs = %.1fx the inject floor; inject, agent in place = %.1fx it" % (
              tracked, tracked / inject[2], inject[1] / tracked))
    return dict((r[0], r[1]) for r in rows)


def nodes_that_fit():
    want = int(os.environ.get("BENCH_NODES", "8"))
    with open("/proc/meminfo") as f:
        avail = next(int(l.split()[1]) for l in f if l.startswith("MemAvailable:")) * 1024
    per = 1.8e9 * SERVICES / 10000.0  # a sandbox node of 10,000 services: about 1.5 GB
    return max(1, min(want, int(avail * 0.7 / per)))


def at_once(backend, files, env, tmp, k, thread):
    """k nodes of SERVICES agents, each with thread worker threads, one
    inject into all of them at once (skyctl -a): the first contact's wall
    time, then the agent in place as one node's is measured (the median of
    3 runs, each after a full collection of every service: one run right
    after the first contact, no collection, read 1.7-2.3x one node's
    figure on the sandbox and 1.2-1.3x on HEAD, with one node "at once");
    returns first, wall, and the most cpu and peak any run took"""
    ns = []
    try:
        for _ in range(k):
            ns.append(nodes.Node(backend, agents=SERVICES, thread=thread).start(timeout=900))
        conf = str(nodes.node_file(pathlib.Path(tmp) / "nodes.lua", ns))
        first = skyctl_rusage(["--config", conf, "-a", "inject", "*/@agent", files["fix1"]],
                              env)[0]
        runs = []
        for i in range(3):
            for n in ns:
                con = nodes.Console(n.port, timeout=600)
                con.banner()
                collect(con)
                con.close()
            runs.append(skyctl_rusage(["--config", conf, "-a", "inject", "*/@agent",
                                       files["fix2.%d" % i]], env))
    finally:
        for n in ns:
            n.stop()
    wall = sorted(r[0] for r in runs)[1]
    return first, wall, max(r[1] for r in runs), max(r[2] for r in runs)


def many_nodes(backend, files, env, tmp, base, k, thread, why):
    """k nodes at once against base, one such node's inject in place"""
    print("-- %s, %d nodes of %d services at once, %d worker thread%s each (%s)" % (
        backend, k, SERVICES, thread, "s" if thread > 1 else "", why), flush=True)
    first, wall, cpu, rss = at_once(backend, files, env, tmp, k, thread)
    print("   first contact %.2fs; agent in place %.2fs = %.1fx one node's %.2fs; skyctl cpu "
          "%.3fs, peak %.1fMB%s" % (first, wall, wall / base, base, cpu, rss,
                                    mark(wall <= 1.5 * base)))
    # what the cores allow: k nodes' work, each node's on as many cores as
    # it has threads, over the machine's cores (one node's batch keeps
    # its threads busy: 1.8x faster with 2 than with 1 on HEAD)
    cores = os.cpu_count() or 1
    allowed = base * max(1.0, k * min(thread, cores) / cores)
    print("   = %.2fx what %d core%s allow: %d node%s' work at %.2fs each, %d at a time" % (
        wall / allowed, cores, "s" if cores > 1 else "", k, "s" if k > 1 else "", base,
        max(1, cores // min(thread, cores))))


def per_core(backend, files, env, tmp, cores):
    """as many busy nodes as the machine runs at once: one per core, each
    with one worker thread, against one such node alone (nodes of two
    threads each keep both cores of a 2-core machine busy by themselves:
    two of them at once took 1.8x one's time, skyctl's cpu 0.2 s of it)"""
    print("-- %s, one node of %d services, 1 worker thread (the base of the next)" % (
        backend, SERVICES), flush=True)
    first, base, cpu, rss = at_once(backend, files, env, tmp, 1, 1)
    print("   first contact %.2fs; agent in place %.2fs; skyctl cpu %.3fs, peak %.1fMB" % (
        first, base, cpu, rss))
    many_nodes(backend, files, env, tmp, base, cores, 1, "one per core")


def bench_files(tmp):
    """the scripts skyctl and the floors run, written under tmp: their
    paths by name"""
    files = {}
    texts = [("fix1", script("one")), ("fix2", script("two")), ("fix3", script("three")),
             ("fix1.floor", floor_script("one")), ("fix2.floor", floor_script("two")),
             ("fix3.floor", floor_script("three")), ("journal", JOURNAL), ("floor", FLOOR),
             ("tracked", TRACK_BEFORE + HOTFIX + script("four") + TRACK_AFTER)]
    texts += [("fix2.%d" % i, script("two.%d" % i)) for i in range(3)]
    for name, text in texts:
        files[name] = os.path.join(tmp, name + ".lua")
        with open(files[name], "w") as f:
            f.write(text)
    return files


def private_env(tmp):
    """skyctl's environment, its HOME and XDG directories under tmp"""
    return dict(os.environ, XDG_STATE_HOME=os.path.join(tmp, "state"),
                HOME=os.path.join(tmp, "home"), XDG_CONFIG_HOME=os.path.join(tmp, "config"))


def main():
    tmp = nodes.scratch_dir("bench10k-")
    files, env = bench_files(tmp), private_env(tmp)
    print("batch benchmark: %d services; floor = the same work fanned out %d at once from one "
          "service inside the node (stock inject of a script on the node's disk)"
          % (SERVICES, PAR))
    print("targets: batch <= 2x floor, skyctl cpu <= 0.3 s and peak <= 50 MB per 10,000 "
          "targets, N nodes <= 1.5x one node")
    cores = os.cpu_count() or 1
    for backend in nodes.backends():
        one = one_node(backend, files, env)
        k = nodes_that_fit()
        many_nodes(backend, files, env, tmp, one["inject, agent in place"], k, 2,
                   "as many as memory holds, at most 8")
        if cores > 1:  # one busy node per core: what the machine can run at once
            per_core(backend, files, env, tmp, min(cores, 8))


if __name__ == "__main__":
    main()
