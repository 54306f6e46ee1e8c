"""What the benchmark scripts share: running commands, timing, medians, and writing a script's own
section of Docs/benchmarks.md between its markers."""
import os, statistics, subprocess, time


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
