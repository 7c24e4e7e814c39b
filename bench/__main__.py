"""`python -m bench` (`make bench`): every benchmark at the sizes the issues name."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    ["bench.broadcast_rate", "3000"],
    ["bench.broadcast_throughput", "20000"],
    ["bench.crash_resume", "3000", "5"],
    ["bench.flood"],
    ["bench.leaderboard", "--units", "300", "--members", "50000", "--answers", "5000000"],
    ["bench.quiz_answers", "5000"],
    ["bench.reports"],
    ["bench.ideas"],
    # PostgreSQL only (BENCH_POSTGRES_URL): many instansi, one and two worker processes.
    ["bench.instansi", "10", "3000"],
]

if __name__ == "__main__":
    for module, *args in BENCHES:
        print(f"== {module} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", module, *args], check=True)
