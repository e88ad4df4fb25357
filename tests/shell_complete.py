"""Run skyctl's completion scripts (completions/) in their real shells and
return the candidates a user would be offered for a command line, as whole
words (what the word under the cursor would become)."""
import os
import shutil
import subprocess
import tempfile
import time

import nodes

COMPLETIONS = os.path.join(nodes.ROOT, "completions")
SHELLS = ("bash", "zsh", "fish")


def missing(shell):
    """why shell's tests cannot run here, or None"""
    if not shutil.which(shell):
        return "%s is not installed" % shell
    if shell == "zsh":
        try:
            import pexpect  # noqa: F401
        except ImportError:
            return "the zsh tests drive an interactive zsh with pexpect (not installed)"
    return None


def environment(env):
    """env for a shell: skyctl of this build first on PATH"""
    e = dict(os.environ)
    e.update(env)
    e["PATH"] = nodes.BUILD + os.pathsep + e.get("PATH", "")
    return e


class Bash:
    """bash: source the file, set COMP_LINE/COMP_POINT (what _skyctl reads:
    it splits the line itself), call the function registered for skyctl
    with `complete -p`, read COMPREPLY.  Readline then replaces only the
    text after the last COMP_WORDBREAKS character of the word (from an '@'
    on: bash keeps it in the text), which candidates() puts back to give
    whole words."""

    SCRIPT = r'''
source "$1/skyctl.bash"
spec=$(complete -p skyctl) || exit 3
fn=${spec#*-F }; fn=${fn%% *}
COMP_LINE=$2; COMP_POINT=${#2}; COMP_WORDBREAKS=$' \t\n"\'@><=;|&(:'
"$fn" skyctl
(( ${#COMPREPLY[@]} )) && printf '%s\n' "${COMPREPLY[@]}"
exit 0
'''

    def __init__(self, env, cwd):
        self.env, self.cwd = environment(env), cwd

    def run(self, line):
        return subprocess.run(["bash", "--norc", "--noprofile", "-c", self.SCRIPT, "bash",
                               COMPLETIONS, line], capture_output=True, text=True,
                              env=self.env, cwd=self.cwd, timeout=30)

    def candidates(self, line):
        r = self.run(line)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        cur = "" if line.endswith(" ") else line.split()[-1]
        i = max(cur.rfind(c) for c in ":=@")
        pre = cur[:i] if cur[i:i + 1] == "@" else cur[:i + 1]
        return [pre + c for c in r.stdout.splitlines()]

    def close(self):
        pass


class Zsh:
    """zsh: an interactive `zsh -f` (pexpect) with compinit and the
    completions directory on fpath; compadd is wrapped to append every match
    it adds to a file (after IPREFIX, the part of the word a completer set
    aside, as in --config=), and a key runs complete-word then renames that file,
    so the test reads exactly what zsh's completion system offered."""

    def __init__(self, env, cwd):
        import pexpect
        self.dir = tempfile.mkdtemp(prefix="skyctl-zsh-")
        self.cap = os.path.join(self.dir, "matches")
        e = environment(env)
        e.update(TERM="dumb", PS1="%% ", HOME=self.dir)
        self.z = pexpect.spawn("zsh", ["-f", "-i"], env=e, cwd=cwd, encoding="utf-8",
                               timeout=20)
        setup = [
            "fpath=(%s $fpath); autoload -Uz compinit; compinit -u -D" % COMPLETIONS,
            "compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd"
            " \"$@\"; return; fi; local -a __m; builtin compadd -A __m \"$@\";"
            " (( $#__m )) && print -rl -- $IPREFIX${^__m} >> %s.tmp; builtin compadd \"$@\"; }" % self.cap,
            "_t_complete() { : >> %s.tmp; zle complete-word; mv %s.tmp %s; }"
            % (self.cap, self.cap, self.cap),
            "zle -N _t_complete; bindkey '^T' _t_complete",
            "print READY",
        ]
        for line in setup:
            self.z.sendline(line)
        self.z.expect("\nREADY")

    def candidates(self, line):
        if os.path.exists(self.cap):
            os.remove(self.cap)
        self.z.send(line + "\x14")  # ^T: complete and capture
        deadline = time.time() + 15
        while not os.path.exists(self.cap):
            assert time.time() < deadline, "zsh did not complete %r" % line
            time.sleep(0.01)
        self.z.send("\x15")  # ^U: clear the line
        with open(self.cap) as f:
            return f.read().splitlines()

    def close(self):
        self.z.close(force=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Fish:
    """fish: source the file and ask `complete -C` (descriptions dropped)."""

    def __init__(self, env, cwd):
        self.env, self.cwd = environment(env), cwd

    def candidates(self, line):
        r = subprocess.run(["fish", "--no-config", "-c",
                            "source %s/skyctl.fish; complete -C $argv[1]" % COMPLETIONS,
                            line], capture_output=True, text=True, env=self.env,
                           cwd=self.cwd, timeout=30)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        return [c.split("\t")[0] for c in r.stdout.splitlines()]

    def close(self):
        pass


def start(shell, env, cwd):
    return {"bash": Bash, "zsh": Zsh, "fish": Fish}[shell](env, cwd)
