"""Checks hybrid-bench's JSON rows and prints one summary line per row."""
import json
import sys

rows = json.load(open(sys.argv[1]))
keys = {"name", "shape", "threads", "best_ms", "median_ms", "gflops",
        "peak_gflops", "peak_fraction"}
for r in rows:
    missing = keys - r.keys()
    assert not missing, f"{r.get('name')}: missing {sorted(missing)}"
    assert 0 < r["best_ms"] <= r["median_ms"], r
    assert r["peak_gflops"] > 0 and r["gflops"] > 0, r
    assert abs(r["peak_fraction"] - r["gflops"] / r["peak_gflops"]) < 1e-3, r
    shape = " ".join(f"{k}={v}" for k, v in r["shape"].items())
    line = f"{r['name']} {shape} threads={r['threads']} timed"
    if "gbytes_per_s" in r:
        assert r["gbytes_per_s"] > 0 and 0 < r["bandwidth_fraction"], r
        line += " bandwidth"
    print(line)
print("rows", len(rows))
