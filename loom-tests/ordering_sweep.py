#!/usr/bin/env python3
"""Mutation sweep of the atomic orderings in src/ against the loom models.

Usage: python3 loom-tests/ordering_sweep.py SCRATCH_CLONE [FILE ...]

Weakens one ordering at a time in SCRATCH_CLONE (a throw-away clone: files
are edited in place and restored after each mutant): an AcqRel to Release
and to Acquire, an Acquire or Release to Relaxed. Runs the loom models
(eager collection) for each and prints one JSON line per mutant: KILLED (a
model failed: the ordering is checked), SURVIVED (no model needs it: implied
by another ordering, or beyond what loom can see; loom-tests/README.md,
"What the models cannot see") or TIMEOUT. About five minutes a mutant on two cores.
"""
import json
import os
import re
import subprocess
import sys
import time

WEAKER = {"AcqRel": ["Release", "Acquire"], "Acquire": ["Relaxed"], "Release": ["Relaxed"]}
FILES = ["src/decision.rs", "src/inner.rs", "src/list.rs"]


def mutants(root, files):
    for name in files:
        lines = open(os.path.join(root, name)).read().split("\n")
        for number, line in enumerate(lines):
            code = line.split("//")[0]
            if "use " in code:
                continue
            for match in re.finditer(r"\b(AcqRel|Acquire|Release)\b", code):
                for weaker in WEAKER[match.group(1)]:
                    yield name, number, match.start(), match.group(1), weaker


def main():
    root, files = sys.argv[1], sys.argv[2:] or FILES
    env = dict(os.environ, RUSTFLAGS="--cfg forthcoming_loom --cfg crossbeam_loom",
               CARGO_TARGET_DIR=os.path.join(root, "target/loom"))
    env.pop("RUST_BACKTRACE", None)
    for name, number, column, old, new in list(mutants(root, files)):
        path = os.path.join(root, name)
        original = open(path).read()
        lines = original.split("\n")
        line = lines[number]
        # Fully qualified: the file may not import the weaker ordering.
        lines[number] = line[:column] + "std::sync::atomic::Ordering::" + new + line[column + len(old):]
        open(path, "w").write("\n".join(lines))
        start = time.time()
        try:
            run = subprocess.run(["cargo", "test", "--release", "-p", "forthcoming-loom-tests"],
                                 cwd=root, env=env, capture_output=True, text=True, timeout=1800)
            output = run.stdout + run.stderr
            if "error[" in output or "could not compile" in output:
                status = "COMPILE_ERROR"
            else:
                status = "KILLED" if run.returncode != 0 else "SURVIVED"
            failed = re.findall(r"^test (\S+) \.\.\. FAILED", output, re.M)
        except subprocess.TimeoutExpired:
            status, failed = "TIMEOUT", []
        finally:
            open(path, "w").write(original)
        print(json.dumps({"file": name, "line": number + 1, "from": old, "to": new,
                          "status": status, "failed": failed[:3],
                          "seconds": int(time.time() - start), "code": line.strip()}), flush=True)


if __name__ == "__main__":
    main()
