#!/usr/bin/env python3
"""Checks the device code of a module that --hybrid-gpu-pipeline lowered
(format=isa): every gpu.binary's PTX is written to its own file and run
through `ptxas -arch=<arch> -v`. Prints one line per kernel module,

    kernel <name>: <R> registers, <S> bytes spill stores, <L> bytes spill loads

and exits non-zero when ptxas rejects a module or a kernel spills (unless
--allow-spills). Usage: check_ptx.py MODULE.mlir PTXAS ARCH OUTDIR
"""
import os
import re
import subprocess
import sys


def unescape(text):
    """MLIR string literals escape bytes as \\XX (and \\" \\\\)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "\\\"":
                out.append(nxt)
                i += 2
                continue
            if re.match(r"[0-9A-Fa-f]{2}", text[i + 1:i + 3]):
                out.append(chr(int(text[i + 1:i + 3], 16)))
                i += 3
                continue
        out.append(c)
        i += 1
    return "".join(out)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    allow_spills = "--allow-spills" in sys.argv
    module, ptxas, arch, outdir = args
    text = open(module).read()
    os.makedirs(outdir, exist_ok=True)
    binaries = re.findall(
        r'gpu\.binary @(\w+)\s*\[.*?assembly = "((?:[^"\\]|\\.)*)"', text, re.S)
    if not binaries:
        print("error: no gpu.binary with PTX in", module)
        return 1
    status = 0
    for name, escaped in binaries:
        ptx = unescape(escaped)
        path = os.path.join(outdir, name + ".ptx")
        with open(path, "w") as f:
            f.write(ptx)
        run = subprocess.run(
            [ptxas, "-arch=" + arch, "-v", path, "-o", path + ".cubin"],
            capture_output=True, text=True)
        if run.returncode != 0:
            print("kernel %s: ptxas failed:\n%s" % (name, run.stderr))
            status = 1
            continue
        regs = re.findall(r"Used (\d+) registers", run.stderr)
        spills = re.findall(
            r"(\d+) bytes spill stores, (\d+) bytes spill loads", run.stderr)
        r = max((int(x) for x in regs), default=0)
        st = sum(int(a) for a, _ in spills)
        ld = sum(int(b) for _, b in spills)
        print("kernel %s: %d registers, %d bytes spill stores, "
              "%d bytes spill loads" % (name, r, st, ld))
        if (st or ld) and not allow_spills:
            status = 1
    print("%d kernel modules checked for %s" % (len(binaries), arch))
    return status


if __name__ == "__main__":
    sys.exit(main())
