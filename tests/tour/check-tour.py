#!/usr/bin/env python3
"""check-tour.py - run the commands of doc/tour.md against a fresh mount and
compare their output with the page's, printing TAP (one test per block).

The page's ```console blocks hold "$ COMMAND" lines, each followed by its
output. The commands run in one bash, in order, with M (the mount point,
under $TMPDIR), W (a directory on a file system that writes back: the
tour's dirty pages need one) and MMAPFS_MOUNT set, and the server and
mmapctl first on PATH. The server is always unmounted and stopped.
--show prints what the commands print instead of comparing."""
import os, re, shutil, signal, subprocess, sys, tempfile

top = os.environ.get("MMAPFS_SRCDIR") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
server = os.environ.get("MMAPFS_BIN") or os.path.join(top, "src/server/mmapfs")
client = os.environ.get("MMAPCTL_BIN") or os.path.join(top, "src/mmapctl/mmapctl")
show = "--show" in sys.argv
END = "@@tour-end@@"


def blocks(text):
    """[(first line number, [(command, expected output)])] of the page."""
    out = []
    for m in re.finditer(r"^```console\n(.*?)^```", text, re.S | re.M):
        steps = []
        for line in m.group(1).splitlines():
            if line.startswith("$ "):
                steps.append([line[2:], []])
            elif steps:
                steps[-1][1].append(line)
        out.append((text[:m.start()].count("\n") + 1, steps))
    return out


def writeback_dir():
    for d in ("/var/tmp", "/tmp"):
        r = subprocess.run(["stat", "-f", "-c", "%T", d], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() not in ("tmpfs", "ramfs"):
            return d
    return None


def main():
    if os.geteuid() != 0 or not os.access("/dev/fuse", os.R_OK | os.W_OK):
        print("1..0 # SKIP the tour needs root and /dev/fuse")
        return 0
    base = writeback_dir()
    if not base:
        print("1..0 # SKIP no file system here writes back (the tour needs one)")
        return 0
    page = blocks(open(os.path.join(top, "doc/tour.md")).read())
    tmp = tempfile.mkdtemp(prefix="tour.", dir=os.environ.get("TMPDIR", "/tmp"))
    work = tempfile.mkdtemp(prefix="mmapfs-tour.", dir=base)
    mnt = os.path.join(tmp, "m")
    os.mkdir(mnt)
    # The page says `mmapfs` and `mmapctl`: wrappers by those names run the
    # programs under test (MMAPFS_BIN may itself be a wrapper script, as in
    # the sanitizer builds).
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    for name, prog in (("mmapfs", server), ("mmapctl", client)):
        with open(os.path.join(bindir, name), "w") as f:
            f.write("#!/bin/sh\nexec '%s' \"$@\"\n" % os.path.abspath(prog).replace("'", "'\\''"))
        os.chmod(os.path.join(bindir, name), 0o755)
    env = dict(os.environ, M=mnt, W=work, MMAPFS_MOUNT=mnt, LC_ALL="C",
               PATH=bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    script = "".join(f"{cmd}\necho {END}\n" for _, steps in page for cmd, _ in steps)
    try:
        r = subprocess.run(["bash", "-c", "exec 2>&1\n" + script], env=env, cwd=work,
                           capture_output=True, text=True, timeout=120)
        got = r.stdout.split(END + "\n")
    except subprocess.TimeoutExpired:
        got = None
    finally:
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)
        subprocess.run(["pkill", "-TERM", "-f", "mmapfs " + mnt], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if show:
        print("".join((got or ["(timed out)"])))
        return 0
    print(f"1..{len(page)}")
    failed = 0
    k = 0
    for n, (line, steps) in enumerate(page, 1):
        bad = []
        for cmd, want in steps:
            have = got[k].rstrip("\n").split("\n") if got and k < len(got) else ["(no output: timed out)"]
            if have == [""]:
                have = []
            if have != want:
                bad.append((cmd, want, have))
            k += 1
        print(("not ok" if bad else "ok") + f" {n} - doc/tour.md block at line {line}")
        for cmd, want, have in bad:
            print(f"# $ {cmd}\n# wanted:\n" + "".join(f"#   {l}\n" for l in want) +
                  "# got:\n" + "".join(f"#   {l}\n" for l in have), end="")
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
