"""The sampler comparison of Scripts/analysis/sampler-sweep.sh: per generator and setting,
the generation time (30 members, 1850-2005) and the evaluate metrics, with DDIM 50 at a
second seed as the yardstick of sampling noise: a setting is within noise of DDIM 50 when
every metric differs from DDIM 50 (seed 2) by no more than twice the seed-to-seed difference
of DDIM 50, or 0.01 in the ratio metrics if that is larger.

Usage: sampler_table.py WORK_DIR
"""
import glob
import json
import os
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
        ref_s, ref = load(f"{kind}-ddim-50-seed2")
        _, other = load(f"{kind}-ddim-50-seed4")
        noise = {k: max(2 * abs(ref[k] - other[k]), FLOOR[k]) if ref[k] is not None and other[k] is not None else None
                 for k in ref}
        print(f"\n{kind} (30 members, 1850-2005; tolerance = max(2 × |DDIM 50 seed 2 − seed 4|, floor))")
        print("| sampler | seconds | speed-up | " + " | ".join(k for k, _ in METRICS) + " | within noise |")
        print("| --- " * (len(METRICS) + 4) + "|")
        settings = ["ddim-50-seed2", "ddim-50-seed4"] + [f"dpm-solver-{n}-seed2" for n in (8, 12, 16, 25, 50)]
        for setting in settings:
            name = f"{kind}-{setting}"
            if not os.path.exists(os.path.join(work, f"eval-{name}", "report.json")):
                continue
            s, m = load(name)
            ok = all(m[k] is None or ref[k] is None or abs(m[k] - ref[k]) <= noise[k] for k in m)
            cells = [("–" if m[k] is None else f"{m[k]:.3f}") for k, _ in METRICS]
            label = setting.replace("-seed", ", seed ").replace("dpm-solver-", "DPM-Solver++(2M) ").replace("ddim-", "DDIM ")
            print(f"| {label} | {s:.0f} | {ref_s / s:.1f}× | " + " | ".join(cells) + f" | {'yes' if ok else 'no'} |")
        print("tolerances: " + ", ".join(f"{k} {v:.3f}" for k, v in noise.items() if v is not None))


main()
