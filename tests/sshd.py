"""A throw-away OpenSSH server for the ssh transport's tests and bench: sshd
-D on a free loopback port, run as the current user, with a host key and a
client key generated into a temp dir; Sshd.env() gives the SKYCTL_SSH that
makes skyctl's ssh use that key and skip host-key checks."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import nodes

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


class SshdUnavailable(Exception):
    """sshd is installed but cannot run here"""


class Sshd:
    """sshd -D on 127.0.0.1:port, accepting dir/client_key for this user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="skyctl-sshd-")
        self.port = nodes.free_port()
        self.key = os.path.join(self.dir, "client_key")
        self.proc = None

    def keygen(self, path):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path],
                       check=True, timeout=30, stdin=subprocess.DEVNULL)

    def start(self):
        if not os.path.isdir("/run/sshd"):
            try:
                os.makedirs("/run/sshd", mode=0o755)     # sshd's privilege separation dir
            except OSError as e:
                raise SshdUnavailable("sshd needs /run/sshd: %s" % e)
        host_key = os.path.join(self.dir, "host_key")
        self.keygen(host_key)
        self.keygen(self.key)
        auth = os.path.join(self.dir, "authorized_keys")
        shutil.copy(self.key + ".pub", auth)
        os.chmod(auth, 0o600)
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write("\n".join([
                "Port %d" % self.port, "ListenAddress 127.0.0.1", "HostKey " + host_key,
                "AuthorizedKeysFile " + auth, "StrictModes no", "UsePAM no", "PidFile none",
                "PermitRootLogin yes",          # CI runs the tests as root
                "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "AllowTcpForwarding yes",
                "LogLevel ERROR", ""]))
        self.proc = subprocess.Popen([SSHD, "-f", config, "-D", "-e"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd did not start: %s" % self.proc.stderr.read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not listen on port %d within 10 s" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, node_port, target=""):
        return "ssh://127.0.0.1:%d/%s%d" % (self.port, target, node_port)

    def env(self, key=None):
        return {"SKYCTL_SSH": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
                              "-o IdentitiesOnly=yes -i " + (key or self.key)}
