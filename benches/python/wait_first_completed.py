"""The `wait_any_pending` bench of benches/group.rs, in Python, for scale.

concurrent.futures.wait(FIRST_COMPLETED) over N pending futures, the last one
completed by a persistent worker thread. Timed per round, as in the Rust
bench: the hand-off to the worker, the whole wait, and the read. Prints the
median of 200 rounds for N = 256 and 4096.

    python3 benches/python/wait_first_completed.py
"""

import concurrent.futures as cf
import queue
import statistics
import sys
import threading
import time

VALUE = 7


def complete_each(jobs):
    while (future := jobs.get()) is not None:
        future.set_result(VALUE)


def median_round(n, rounds=200):
    jobs = queue.Queue()
    worker = threading.Thread(target=complete_each, args=(jobs,))
    worker.start()
    times = []
    for _ in range(rounds):
        futures = [cf.Future() for _ in range(n)]
        start = time.perf_counter()
        jobs.put(futures[-1])
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        value = next(iter(done)).result()
        times.append(time.perf_counter() - start)
        assert value == VALUE and done == {futures[-1]}
    jobs.put(None)
    worker.join()
    return statistics.median(times)


for n in (256, 4096):
    print(f"python {sys.version.split()[0]} concurrent.futures.wait "
          f"FIRST_COMPLETED, N={n}: median {median_round(n) * 1e6:.1f} us")
