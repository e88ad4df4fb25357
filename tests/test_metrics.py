"""skyctl metrics against real nodes: the text promtool accepts (plain and
OpenMetrics), kinds summed, the top services labelled with their address,
a dead node as skynet_up 0, --textfile, the jemalloc figures exactly where
jmem has them, and the usage errors.  A real Prometheus scraping
`metrics --listen` is in test_metrics_prometheus.py."""
import os
import re
import shutil
import subprocess

import pytest

import nodes
from cli_helpers import skyctl

pytestmark = pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary")

PROMTOOL = shutil.which("promtool")


def samples(text):
    """{(name, frozenset of label pairs): value} of an exposition"""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(s, name, **labels):
    hits = [v for (n, ls), v in s.items() if n == name and set(labels.items()) <= ls]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


def promtool_ok(text):
    if not PROMTOOL:
        pytest.skip("promtool is not installed (tools/install-deps)")
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def cluster_env(tmp_path, ns):
    xdg = tmp_path / "xdg"
    nodes.node_file(xdg / "skyctl" / "config.lua", ns)
    return {"XDG_CONFIG_HOME": str(xdg)}


def test_promtool_accepts_it_and_agents_are_one_kind(node):
    r = skyctl("metrics", node=node)
    assert r.returncode == 0, r.stderr
    promtool_ok(r.stdout)
    s = samples(r.stdout)
    assert value(s, "skynet_up", node=node.address) == 1
    assert value(s, "skynet_kind_services", kind="agent") == 3
    assert value(s, "skynet_node_services") >= 8
    assert value(s, "skynet_kind_messages_total", kind="agent") > 0
    assert value(s, "skynet_kind_lua_memory_bytes", kind="agent") >= \
        value(s, "skynet_kind_lua_memory_max_bytes", kind="agent") > 0
    assert "# TYPE skynet_kind_cpu_seconds_total counter" in r.stdout


def test_openmetrics(node):
    r = skyctl("metrics", "--openmetrics", node=node)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("# EOF\n")
    assert "# TYPE skynet_kind_cpu_seconds counter\n" in r.stdout
    assert "# UNIT skynet_kind_cpu_seconds seconds\n" in r.stdout
    assert re.search(r'^skynet_kind_cpu_seconds_total\{.*kind="agent"\} ', r.stdout, re.M)


def test_top_services_and_per_service(node):
    r = skyctl("metrics", "--top", "1", node=node)
    addrs = {dict(ls)["address"] for (n, ls) in samples(r.stdout) if n.startswith("skynet_service_")}
    assert 1 <= len(addrs) <= 3, addrs      # the top one by cpu, by memory, by queue
    r = skyctl("metrics", "--top", "0", node=node)
    assert "skynet_service_" not in r.stdout
    r = skyctl("metrics", "--per-service", node=node)
    s = samples(r.stdout)
    every = {dict(ls)["address"] for (n, ls) in s if n == "skynet_service_lua_memory_bytes"}
    assert {":0000000a", ":0000000b", ":0000000c"} <= every
    assert len(every) == value(s, "skynet_node_services")
    promtool_ok(r.stdout)


def test_target_filters_kinds_not_the_node(node):
    r = skyctl("metrics", "@agent", node=node)
    assert r.returncode == 0, r.stderr
    s = samples(r.stdout)
    kinds = {dict(ls)["kind"] for (n, ls) in s if n == "skynet_kind_services"}
    assert kinds == {"agent"}
    assert value(s, "skynet_node_services") >= 8


def test_dead_node_is_up_0_and_the_rest_is_there(node, tmp_path):
    dead = nodes.Node(node.backend)
    dead.port = nodes.free_port()
    r = skyctl("-a", "metrics", env=cluster_env(tmp_path, [node, dead]))
    assert r.returncode == 3, r.stderr     # cannot connect
    assert re.search(r"n2: metrics: .*skynet_up 0", r.stderr), r.stderr
    s = samples(r.stdout)
    assert value(s, "skynet_up", node="n1") == 1
    assert value(s, "skynet_up", node="n2") == 0
    assert value(s, "skynet_kind_services", node="n1", kind="agent") == 3
    assert not [k for k in s if ("node", "n2") in k[1] and k[0] not in
                ("skynet_up", "skynet_node_scrape_duration_seconds")]
    promtool_ok(r.stdout)


def test_textfile_is_written_whole(node, tmp_path):
    path = tmp_path / "skynet.prom"
    path.write_text("old\n")
    r = skyctl("metrics", "--textfile", path, node=node)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert value(samples(path.read_text()), "skynet_kind_services", kind="agent") == 3
    assert os.listdir(tmp_path) == ["skynet.prom"]      # no temporary file left
    r = skyctl("metrics", "--textfile", tmp_path / "no" / "such.prom", node=node)
    assert r.returncode == 6 and "cannot write" in r.stderr


def test_jemalloc_figures_where_jmem_has_them(node):
    jmem = skyctl("jmem", node=node).stdout
    allocated = int(re.search(r"^stats\.allocated\t(\d+)", jmem, re.M).group(1))
    r = skyctl("metrics", node=node)
    s = samples(r.stdout)
    names = {n for (n, _) in s}
    if allocated:   # a jemalloc build (SKYNET_ROOT=/tmp/skynet-je)
        assert value(s, "skynet_node_jemalloc_allocated_bytes") > 0
        assert value(s, "skynet_node_c_memory_bytes") > 0
        assert {"skynet_node_jemalloc_%s_bytes" % k for k in
                ("active", "mapped", "resident", "retained")} <= names
    else:
        assert not [n for n in names if "jemalloc" in n or "c_memory" in n], names
    promtool_ok(r.stdout)


@pytest.mark.parametrize("args,msg", [
    (["--listen", "127.0.0.1:0", "--textfile", "x"], "--listen or --textfile"),
    (["--listen", "nocolon"], "bad listen address"),
    (["--top", "-1"], "a count"),
])
def test_usage_errors(args, msg):
    r = skyctl("metrics", *args, env={"SKYCTL_HOST": "127.0.0.1:1"})
    assert r.returncode == 2 and msg in r.stderr, r.stderr
