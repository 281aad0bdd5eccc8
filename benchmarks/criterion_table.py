#!/usr/bin/env python3
"""Markdown table of the codec bench's criterion medians (issue 5).

    python3 benchmarks/criterion_table.py [CRITERION_DIR]

CRITERION_DIR defaults to $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else
target/criterion. Each cell: median of the per-iteration time, with criterion's 95%
confidence interval of that median in brackets.
"""
import json
import os
import sys
from pathlib import Path

WORKLOADS = ["small", "profile", "cart"]
OPS = ["seal", "open", "roundtrip"]
SYSTEMS = [
    "ours_xchacha_lz4", "ours_xchacha_nolz4", "ours_aes_lz4", "ours_aes_nolz4",
    "actix_session", "floor_xchacha", "floor_aes",
]


def default_dir():
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    return Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def cell(d, group, system):
    p = d / group / system / "new" / "estimates.json"
    if not p.exists():
        return "–"
    m = json.loads(p.read_text())["median"]
    ci = m["confidence_interval"]
    return f"{fmt(m['point_estimate'])} [{fmt(ci['lower_bound'])}–{fmt(ci['upper_bound'])}]"


def main():
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else default_dir()
    for w in WORKLOADS:
        print(f"\n**{w}**\n")
        print("| system | " + " | ".join("seal+open (typed)" if o == "roundtrip" else o for o in OPS) + " |")
        print("|---|" + "---|" * len(OPS))
        for s in SYSTEMS:
            print(f"| {s} | " + " | ".join(cell(d, f"{w}-{o}", s) for o in OPS) + " |")


if __name__ == "__main__":
    main()
