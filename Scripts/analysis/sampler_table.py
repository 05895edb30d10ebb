"""The sampler comparison of Scripts/analysis/sampler-sweep.sh: per generator and setting,
the generation time (30 members, 1850-2005) and the evaluate metrics. DDIM 50 at several seeds
is the yardstick: its mean is the reference and the standard deviation s of its seeds the
sampling noise of one run. A setting is within noise of DDIM 50 when every metric differs from
the DDIM 50 mean by no more than 2 · s · √(1 + 1/n) (n seeds: about a 95% band for the
difference of one run from the mean of n), or by a floor where the seeds agree more closely
than a metric's resolution.

Usage: sampler_table.py WORK_DIR
"""
import glob
import json
import math
import os
import statistics
import sys

work = sys.argv[1]

METRICS = [
    ("spread ratio", lambda c: c["comparison"]["spreadRatio"]),
    ("CRPS (K)", lambda c: c["verification"]["crpsFair"]),
    ("Niño3.4 σ ratio", lambda c: c["nino34"]["standardDeviationRatio"]),
    ("Niño3.4 peak (yr)", lambda c: c["nino34"]["peakPeriodYears"]),
    ("volcanic RMSE (K)", lambda c: c["variability"].get("volcanicCompositeRMSE")),
    ("lag-1", lambda c: c["variability"]["lag1"]),
]
FLOOR = {"spread ratio": 0.01, "Niño3.4 σ ratio": 0.01, "CRPS (K)": 0.001, "lag-1": 0.005,
         "Niño3.4 peak (yr)": 0.1, "volcanic RMSE (K)": 0.005}


def load(name):
    report = json.load(open(os.path.join(work, f"eval-{name}", "report.json")))
    generated = next(c for c in report["candidates"] if c["name"] == "generated")
    seconds = float(open(os.path.join(work, f"{name}.seconds")).read())
    return seconds, {label: f(generated) for label, f in METRICS}


def main():
    kinds = sorted({os.path.basename(p).split("-")[0] for p in glob.glob(os.path.join(work, "*-seed*.nc"))})
    for kind in kinds:
        ddim = sorted(os.path.basename(p)[len(kind) + 1:-3] for p in glob.glob(os.path.join(work, f"{kind}-ddim-50-seed*.nc"))
                      if os.path.exists(os.path.join(work, f"eval-{os.path.basename(p)[:-3]}", "report.json")))
        if len(ddim) < 2:
            print(f"{kind}: DDIM 50 at fewer than two seeds; no yardstick")
            continue
        runs = [load(f"{kind}-{d}") for d in ddim]
        ref_s = statistics.mean(s for s, _ in runs)
        ref, noise = {}, {}
        for k, _ in METRICS:
            values = [m[k] for _, m in runs]
            if any(v is None for v in values):
                ref[k] = noise[k] = None
                continue
            ref[k] = statistics.mean(values)
            noise[k] = max(2 * statistics.stdev(values) * math.sqrt(1 + 1 / len(values)), FLOOR[k])
        print(f"\n{kind} (30 members, 1850-2005; reference: DDIM 50 mean of {len(ddim)} seeds, {ref_s:.0f} s;"
              f" tolerance 2·s·√(1+1/{len(ddim)}) or a floor)")
        print("| sampler | seconds | speed-up | " + " | ".join(k for k, _ in METRICS) + " | within noise |")
        print("| --- " * (len(METRICS) + 4) + "|")
        settings = ddim + [f"dpm-solver-{n}-seed2" for n in (8, 12, 16, 25, 50)]
        for setting in settings:
            name = f"{kind}-{setting}"
            if not os.path.exists(os.path.join(work, f"eval-{name}", "report.json")):
                continue
            s, m = load(name)
            ok = all(m[k] is None or ref[k] is None or abs(m[k] - ref[k]) <= noise[k] for k in m)
            cells = [("–" if m[k] is None else f"{m[k]:.3f}") for k, _ in METRICS]
            label = setting.replace("-seed", ", seed ").replace("dpm-solver-", "DPM-Solver++(2M) ").replace("ddim-", "DDIM ")
            print(f"| {label} | {s:.0f} | {ref_s / s:.1f}× | " + " | ".join(cells) + f" | {'yes' if ok else 'no'} |")
        print("DDIM 50 mean: " + ", ".join(f"{k} {v:.3f}" for k, v in ref.items() if v is not None))
        print("tolerances: " + ", ".join(f"{k} {v:.3f}" for k, v in noise.items() if v is not None))


main()
