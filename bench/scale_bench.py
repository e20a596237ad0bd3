"""Scale benchmark: a 20-service app synthesizes in at most 2x the default app's time.

    python bench/scale_bench.py            # (`make bench` runs it too)

Synthesizes dev as shipped and dev with 18 more services (6 public, 6 internal, 6 workers;
20 or more in all), each in a fresh process (provider load included, as `make synth` pays it), three
runs each; prints the medians and their ratio. Exit status 1 when the ratio exceeds 2.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
BUDGET_RATIO = 2.0

PROGRAM = r"""
import json, sys
sys.path.insert(0, ROOT)
from envs import build_environment, merge
from envs.dev import OVERRIDES as DEV
from stacks.app import build_app

extra = json.loads(EXTRA)
env = build_environment(merge(DEV, extra), source="bench/scale_bench.py")
app = build_app([env], outdir=OUTDIR)[0]
app.synth()
print(len(env.services))
"""


def extra_services(count_per_kind: int = 6) -> dict[str, object]:
    """18 services on top of dev's two: public and internal ones routed by path, and workers."""
    services: dict[str, object] = {}
    for index in range(count_per_kind):
        services[f"web{index}"] = {
            "exposure": "public",
            "container_port": 3100 + index,
            "path_patterns": [f"/web{index}/*"],
        }
        services[f"api{index}"] = {
            "exposure": "internal",
            "container_port": 8100 + index,
            "path_patterns": [f"/api{index}/*"],
            "allowed_callers": ["frontend"],
        }
        services[f"worker{index}"] = {"exposure": "none", "desired_count": 1}
    return {"services": services}


def synth_seconds(extra: dict[str, object]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as outdir:
        program = (
            PROGRAM.replace("ROOT", repr(str(ROOT)))
            .replace("EXTRA", repr(json.dumps(extra)))
            .replace("OUTDIR", repr(outdir))
        )
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"synth failed:\n{done.stderr[-2000:]}")
    return elapsed, int(done.stdout.strip().splitlines()[-1])


def main() -> int:
    results = {}
    for label, extra in (("default", {}), ("20 services", extra_services())):
        times = []
        for _ in range(RUNS):
            seconds, services = synth_seconds(extra)
            times.append(seconds)
        results[label] = (statistics.median(times), services)
        print(f"{label:>12}: {services} services, median {results[label][0]:.2f} s of {RUNS}")
    ratio = results["20 services"][0] / results["default"][0]
    verdict = "within" if ratio <= BUDGET_RATIO else "OVER"
    print(f"ratio: {ratio:.2f}x ({verdict} the {BUDGET_RATIO:.0f}x budget)")
    return 0 if ratio <= BUDGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
