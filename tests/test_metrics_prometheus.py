"""A real Prometheus (Debian's /usr/bin/prometheus, on 127.0.0.1, its
storage in a tmp dir) scrapes `skyctl -a metrics --listen` every second;
the series are read back through its HTTP API: the scrape itself is up,
skynet_up is 1 for the live node and 0 for the dead one, the agents are
one kind of 3, and a counter grows between scrapes (each scrape's own
stat and mem are messages to every service)."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

import nodes

PROMETHEUS = "/usr/bin/prometheus"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(nodes.SKYCTL), reason="no skyctl binary"),
    pytest.mark.skipif(not os.path.exists(PROMETHEUS),
                       reason="Debian's prometheus is not installed (tools/install-deps)"),
]


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def exporter(node, tmp_path):
    """skyctl -a metrics --listen 127.0.0.1:0 over the node and a dead one;
    (process, port, its stderr file)"""
    dead = nodes.Node(node.backend)
    dead.port = nodes.free_port()
    xdg = tmp_path / "xdg"
    nodes.node_file(xdg / "skyctl" / "config.lua", [node, dead])
    log = tmp_path / "skyctl.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([nodes.SKYCTL, "-a", "metrics", "--listen", "127.0.0.1:0"],
                                env=dict(os.environ, XDG_CONFIG_HOME=str(xdg)),
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.time() + 10
        m = None
        while not m and time.time() < deadline and proc.poll() is None:
            m = re.search(r"serving http://127\.0\.0\.1:(\d+)/metrics", log.read_text())
            time.sleep(0.02)
        assert m, log.read_text()
        yield proc, int(m.group(1)), log
    finally:
        stop(proc)


def api(port, query):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": query}))
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.loads(r.read(1 << 20))
    assert doc["status"] == "success", doc
    return {json.dumps(x["metric"], sort_keys=True): float(x["value"][1])
            for x in doc["data"]["result"]}


def wait_for(port, query, check, timeout=60):
    """poll Prometheus until query's result satisfies check; return it"""
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        try:
            got = api(port, query)
            if check(got):
                return got
        except OSError:     # not listening yet
            pass
        time.sleep(0.2)
    raise AssertionError("%s: %r within %g s" % (query, got, timeout))


def only(result):
    assert len(result) == 1, result
    return next(iter(result.values()))


def test_prometheus_scrapes_the_cluster(exporter, tmp_path):
    _, port, log = exporter
    prom_port = nodes.free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: skynet\n    static_configs:\n"
        "      - targets: ['127.0.0.1:%d']\n" % port)
    data = tmp_path / "data"
    prom = subprocess.Popen([PROMETHEUS, "--config.file=%s" % config,
                             "--storage.tsdb.path=%s" % data,
                             "--web.listen-address=127.0.0.1:%d" % prom_port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=str(tmp_path))
    try:
        assert only(wait_for(prom_port, 'up{job="skynet"}', lambda r: r)) == 1
        up = wait_for(prom_port, "skynet_up", lambda r: len(r) == 2)
        assert sorted(up.values()) == [0, 1]
        assert only(wait_for(prom_port, 'skynet_up{node="n2"}', lambda r: r)) == 0
        assert only(wait_for(prom_port, 'skynet_kind_services{node="n1",kind="agent"}',
                             lambda r: r)) == 3
        q = 'skynet_kind_messages_total{node="n1",kind="agent"}'
        first = only(wait_for(prom_port, q, lambda r: r))
        wait_for(prom_port, q, lambda r: r and only(r) > first)
        wait_for(prom_port, 'rate(skynet_kind_cpu_seconds_total{kind="agent"}[5s])',
                 lambda r: len(r) == 1)
    finally:
        stop(prom)
        shutil.rmtree(data, ignore_errors=True)
    assert re.search(r"n2: down \(skynet_up 0\): ", log.read_text()), log.read_text()
    assert "n1: up" in log.read_text()
