"""skyctl profile: a service with a known hot function (sandbox/services/hot.lua:
CMD.work, run in skynet's pooled coroutines, calls crunch) is profiled in
every format; the hot function gets most samples, the pooled handler is on
its stacks; several services merge or stay apart; nothing stays in the
service, even when skyctl dies mid-window; a stuck service is pointed to
`skyctl stuck`; the SVG parses and, where chromium is installed, draws."""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib

import pytest

import nodes
from cli_helpers import skyctl

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

FOLDED = re.compile(r"^([^;\n]+(;[^;\n]+)*) (\d+)$")


def line_of(text):
    """hot.lua:N, where text starts a line of hot.lua"""
    with open(os.path.join(nodes.SERVICES, "hot.lua")) as f:
        n = [i for i, x in enumerate(f, 1) if x.startswith(text)][0]
    return "hot.lua:%d" % n


CRUNCH, WORK = line_of("local function crunch"), line_of("function CMD.work")


@pytest.fixture
def hot(backend):
    n = nodes.Node(backend, agents=2, services=("hot",)).start(timeout=30)
    yield n
    n.stop()


def folded(text):
    """{stack: count} from folded lines, each checked against the format"""
    stacks = {}
    for line in text.splitlines():
        m = FOLDED.match(line)
        assert m, "not a folded line: %r" % line
        assert all(f.strip() for f in m.group(1).split(";")), line
        stacks[m.group(1)] = stacks.get(m.group(1), 0) + int(m.group(3))
    return stacks


def leftovers(node):
    r = skyctl("call", ".hot", '"leftovers"', node=node)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()[0].split("\t", 1)[1]


def services(node):
    return sorted(skyctl("list", node=node).stdout.splitlines())


def test_hot_function_gets_most_samples_in_a_pooled_handler(hot):
    before = services(hot)
    # about 150 samples: enough that the share is steady (at 1 s and the
    # default rate, ~20 samples gave crunch 0.53-0.95 of them)
    r = skyctl("profile", ".hot", "--seconds", "2", "--hz", "400", "--no-agent", node=hot)
    assert r.returncode == 0, r.stderr
    stacks = folded(r.stdout)
    total = sum(stacks.values())
    assert total >= 40, r.stdout
    crunch = sum(n for s, n in stacks.items() if s.split(";")[-1] == "crunch (%s)" % CRUNCH)
    assert crunch > total / 2, r.stdout
    # the handler ran in one of skynet's pooled coroutines: its stack starts
    # at the pool's coroutine body in skynet.lua, then the dispatch, then CMD.work
    hot_stacks = [s.split(";") for s in stacks if "CMD.work (%s)" % WORK in s]
    assert hot_stacks, r.stdout
    assert all("skynet.lua:" in s[0] for s in hot_stacks), hot_stacks
    assert re.search(r"^profile: \d+ samples from 1 service \(\d+ coroutines hooked\)", r.stderr,
                     re.M), r.stderr
    # nothing stays: no hook, no replaced function, no extra service
    assert leftovers(hot) == ""
    assert services(hot) == before


def test_table_shows_top_functions_with_where(hot):
    r = skyctl("profile", ".hot", "--seconds", "1", node=hot, tty=True)
    assert r.returncode == 0, r.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", x) for x in r.stdout.splitlines()]
    assert lines[0].split() == ["SELF", "TOTAL", "FUNCTION", "WHERE"]
    top = lines[1].split()
    assert top[2:] == ["crunch", CRUNCH], lines
    assert float(top[0].rstrip("%")) > 50
    assert any(x.split()[2:] == ["CMD.work", WORK] for x in lines[1:]), lines
    assert leftovers(hot) == ""


def test_several_services_merge_or_stay_apart(hot):
    r = skyctl("profile", "@agent,.hot", "--seconds", "1", node=hot)
    assert r.returncode == 0, r.stderr
    assert "from 3 services" in r.stderr
    merged = folded(r.stdout)
    assert any(s.endswith("crunch (%s)" % CRUNCH) for s in merged)
    r = skyctl("profile", "@agent,.hot", "--seconds", "1", "--per-service", node=hot)
    assert r.returncode == 0, r.stderr
    roots = {s.split(";")[0] for s in folded(r.stdout)}
    assert roots and all(re.fullmatch(r":[0-9a-f]{8} snlua (hot|agent \d)", x) for x in roots)
    assert any(x.endswith("snlua hot") for x in roots)
    r = skyctl("profile", "@agent,.hot", "--seconds", "1", "--per-service", "--json", node=hot)
    doc = json.loads(r.stdout)
    assert doc["summary"]["samples"] > 0 and doc["summary"]["ok"] == 3
    hot_rows = [x for x in doc["rows"] if x["profile"].endswith("snlua hot")]
    assert hot_rows[0]["function"] == "crunch" and hot_rows[0]["where"] == CRUNCH
    assert sum(x["count"] for x in doc["stacks"]) == doc["summary"]["samples"]


def test_speedscope_file(hot, tmp_path):
    out = tmp_path / "p.json"
    r = skyctl("profile", ".hot", "--seconds", "1", "-o", out, node=hot)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert "speedscope written to" in r.stderr
    doc = json.loads(out.read_text())
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    (prof,) = doc["profiles"]
    assert prof["type"] == "sampled" and len(prof["samples"]) == len(prof["weights"])
    assert prof["endValue"] == sum(prof["weights"])
    leafs = [frames[s[-1]]["name"] for s in prof["samples"]]
    assert "crunch" in leafs
    assert {"name": "crunch", "file": "hot.lua", "line": int(CRUNCH.split(":")[1])} in frames


def png_colours(path):
    """the distinct pixel colours of an 8-bit RGB/RGBA PNG (what chromium writes)"""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, colours = zlib.decompress(idat), w * bpp, None, set()
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i] if prev else 0
            c = prev[i - bpp] if prev and i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp * 4):
            colours.add(bytes(row[x:x + 3]))
        prev = row
    return colours


def test_svg_flame_graph(hot, tmp_path):
    out = tmp_path / "p.svg"
    r = skyctl("profile", "@agent,.hot", "--seconds", "1", "-o", out, node=hot)
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in root.iter(ns + "title")]
    assert titles[0].startswith("all (")
    assert any(t.startswith("crunch (%s) (" % CRUNCH) for t in titles), titles
    script = root.find(ns + "script").text
    assert "function zoom" in script and "function search" in script
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("no chromium to draw the SVG (apt-get install chromium)")
    png = tmp_path / "p.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--user-data-dir=%s" % (tmp_path / "chromium"), "--window-size=1200,300",
                    "--screenshot=%s" % png, out.as_uri()],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    colours = png_colours(png)
    warm = [c for c in colours if c[0] >= 200 and c[2] < 80]     # the palette's frames
    assert len(colours) > 5 and warm, colours


def test_hooks_leave_with_the_window_when_skyctl_dies(hot):
    p = subprocess.Popen([nodes.SKYCTL, "-H", hot.address, "profile", ".hot", "--seconds", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while leftovers(hot) == "":        # the window has started: handlers are hooked
            assert time.monotonic() < deadline and p.poll() is None
        p.send_signal(signal.SIGKILL)
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 20
    while leftovers(hot) != "":
        assert time.monotonic() < deadline, leftovers(hot)
        time.sleep(0.1)


def test_a_stuck_service_is_pointed_to_stuck(backend):
    n = nodes.Node(backend, agents=1, services=("loopy",)).start(timeout=30)
    try:
        con = nodes.Console(n.port)
        con.banner()
        con.send('call .loopy "spin"\n')
        n.wait_log("loopy: spinning")
        r = skyctl("profile", "@loopy", "--seconds", "0.5", "--timeout", "1", node=n, timeout=20)
        assert r.returncode != 0
        assert "skyctl stuck" in r.stderr and "cannot be profiled" in r.stderr, r.stderr
        assert r.stdout == ""
        # with others: they are profiled, the stuck one is told apart
        r = skyctl("profile", "@agent,@loopy", "--seconds", "0.5", "--timeout", "1", node=n,
                   timeout=20)
        assert r.returncode != 0
        assert re.search(r"skyctl: profile: :[0-9a-f]{8} snlua loopy: .*skyctl stuck", r.stderr)
        assert "samples from 1 service" in r.stderr, r.stderr
        assert skyctl("signal", ".loopy", node=n).returncode == 0
        con.close()
    finally:
        n.stop()


def test_usage():
    r = skyctl("profile", ".hot", "--format", "png")
    assert r.returncode == 2 and "--format" in r.stderr
    r = skyctl("profile", ".hot", "--hz", "0")
    assert r.returncode == 2 and "--hz" in r.stderr
    r = skyctl("profile", "--help")
    assert r.returncode == 0 and "--per-service" in r.stdout


def test_top_key_profiles_the_top_service(hot):
    import pexpect
    e = dict(os.environ, TERM="xterm")
    child = pexpect.spawn(nodes.SKYCTL, ["-H", hot.address, "top", "-d", "0.5"], env=e,
                          dimensions=(40, 120), encoding="utf-8", timeout=30)
    try:
        child.expect_exact("snlua hot")
        child.send("/hot\r")                    # the filter leaves .hot on top
        child.expect_exact("filter: hot")
        child.send("P")
        child.expect_exact("sampling its Lua stacks")
        child.expect(r"profile :[0-9a-f]{8} snlua hot: \d+ samples in \d+ s")
        child.expect(r"crunch\s+" + re.escape(CRUNCH))
        child.expect_exact("any key: back to top")
        child.send("x")
        child.expect_exact("sort: cpu")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert leftovers(hot) == ""
