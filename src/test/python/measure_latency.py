"""Kernel start-up and round-trip latency of the oneml Java kernel (not a test; prints figures).

    JUPYTER_PATH=DIR /usr/bin/python3 src/test/python/measure_latency.py [KERNEL_NAME] [N]

Reports: process start to kernel_info reply (ready), process start to the first execute_result of "1 + 1"
(JShell start-up and first compile included), and the median / p90 round trip of N trivial cells
(execute_request sent to the idle status after its execute_reply).
"""

import statistics
import sys
import time

from jupyter_client.manager import KernelManager

name = sys.argv[1] if len(sys.argv) > 1 else "java"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30


def run(kc, code, timeout=120):
    msg_id = kc.execute(code)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"].get("text/plain")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=timeout)
    return result


t0 = time.perf_counter()
km = KernelManager(kernel_name=name)
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=120)
ready = time.perf_counter() - t0
value = run(kc, "1 + 1")
first = time.perf_counter() - t0
times = []
for i in range(n):
    s = time.perf_counter()
    run(kc, f"{i} + 1")
    times.append((time.perf_counter() - s) * 1000)
times.sort()
print(f"kernel ready (kernel_info reply): {ready:.2f} s after start")
print(f"first result ({value!r}): {first:.2f} s after start")
print(f"trivial cell round trip over {n}: median {statistics.median(times):.1f} ms, "
      f"p90 {times[int(0.9 * (n - 1))]:.1f} ms, min {times[0]:.1f} ms")
kc.stop_channels()
km.shutdown_kernel(now=False)
del kc, km  # before interpreter shutdown, so jupyter_client's destructors still have logging
