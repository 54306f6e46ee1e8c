"""What the benchmark scripts share: running commands, timing, medians, and writing a script's own
section of Docs/benchmarks.md between its markers."""
import json, os, statistics, subprocess, time


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


def quiet(*args, check=True, **kw):
    return sh(*args, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def timed(f):
    """Milliseconds `f()` took."""
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


PRODUCTS = ["cella-runtime", "cella", "cella-daemon", "cella-keeper", "cella-nic"]


def build_release(root):
    """The manager's programs, release, static Swift runtime, into root/.build/release."""
    for product in PRODUCTS:
        quiet("swift", "build", "-c", "release", "--static-swift-stdlib", "--product", product, cwd=root)


def med(xs):
    return statistics.median(xs)


def write_section(path, begin, end, lines):
    """Replaces the text between `begin` and `end` in `path` (appends it if absent) and prints it."""
    text = open(path).read() if os.path.exists(path) else ""
    block = "\n".join([begin] + lines + [end])
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    open(path, "w").write(text)
    print(block)


class CellaDaemon:
    """A `cella daemon` on a state dir of its own under `work`, and the CLI pointed at it. `prefix` runs
    the daemon behind other words (`nsenter --net=...` to put it in a network namespace)."""

    def __init__(self, work, bin_dir, cgroup_parent="/cella-bench", prefix=()):
        self.work = work
        self.bin = bin_dir
        self.state = os.path.join(work, "state")
        self.prefix = list(prefix)
        self.env = dict(os.environ, CELLA_STATE_DIR=self.state, CELLA_SOCKET=os.path.join(work, "cella.sock"),
                        CELLA_CGROUP_PARENT=cgroup_parent)
        self.daemon = None

    def cli(self, *args, check=True):
        r = sh(os.path.join(self.bin, "cella"), *args, env=self.env, check=False, stdout=subprocess.PIPE,
               stderr=subprocess.PIPE, text=True)
        if check and r.returncode != 0:
            raise SystemExit(f"cella {' '.join(args)}: {r.stderr.strip()}")
        return r

    def start_daemon(self):
        """Starts the daemon; milliseconds until it answered."""
        self.daemon = subprocess.Popen(self.prefix + [os.path.join(self.bin, "cella"), "daemon"], env=self.env,
                                       stdout=subprocess.DEVNULL,
                                       stderr=open(os.path.join(self.work, "daemon.log"), "a"))
        t = time.perf_counter()
        while self.cli("list", check=False).returncode != 0:
            if time.perf_counter() - t > 30:
                raise SystemExit("cella daemon did not answer")
            time.sleep(0.005)
        return (time.perf_counter() - t) * 1000

    def kill_daemon(self, sig=9):
        self.daemon.send_signal(sig)
        self.daemon.wait()

    def info(self, name):
        return json.loads(self.cli("info", name, "--format", "json").stdout)

    def pid(self, name):
        return self.info(name)["pid"]
