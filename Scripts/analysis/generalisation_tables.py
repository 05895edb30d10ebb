"""Generalisation tables of Docs/model-card.md from the work directory of generalisation.sh.

Usage: generalisation_tables.py WORK_DIR
Every figure comes from an `ensemblegen evaluate` report (report.json) in WORK_DIR, except
the scenario's figures by period and the VAE's reconstruction error, computed here from
the NetCDF files. Per simulation the generated ensemble (30 members) and 20 true members
not in the reference are scored against 30 reference members; "CRPS ratio" is the
generated ensemble's fair CRPS over the true members' and the volcanic error is, per
eruption in the period, the RMS over lags -12..48 months of the difference between the
generated and the reference ensemble-mean composite, averaged over the eruptions (the
true members' same error beside it is what 20-against-30 sampling gives).
"""
import json
import os
import sys

import numpy as np
import xarray as xr

GENERATORS = ("autoregressive", "transformer")


def load(path):
    with open(path) as f:
        return json.load(f)


def candidates(report):
    return {c["name"]: c for c in report["candidates"]}


def volcanic_error(candidate, reference):
    """Mean over eruptions of the RMS (over lags) of the ensemble-mean composite difference."""
    ref = {e["name"]: e for e in reference["volcanic"] if e["name"] != "composite"}
    errors = []
    for e in candidate["diagnostics"]["volcanic"]:
        if e["name"] in ref:
            diff = np.array(e["ensembleMean"], float) - np.array(ref[e["name"]]["ensembleMean"], float)
            errors.append(np.sqrt(np.mean(diff ** 2)))
    return (float(np.mean(errors)), len(errors)) if errors else (float("nan"), 0)


def metrics(report):
    """The table's figures of one evaluation: generated against reference, true members beside."""
    c = candidates(report)
    g, t, ref = c["generated"], c["training"], report["reference"]
    n = g["nino34"]
    row = {
        "spread ratio": g["comparison"]["spreadRatio"],
        "spread ratio, true members": t["comparison"]["spreadRatio"],
        "Niño3.4 std ratio": n["standardDeviationRatio"],
        "Niño3.4 spectral peak error (yr)": abs(n["peakPeriodYears"] - n["referencePeakPeriodYears"]),
        "CRPS ratio to true members": g["verification"]["crpsFair"] / t["verification"]["crpsFair"],
        "ensemble-mean RMSE / sampling floor": g["comparison"]["ensembleMeanRMSE"] / g["comparison"]["ensembleMeanRMSEExpected"],
        "rank histogram χ²/dof (true members)": (g["verification"]["rankHistogram"]["reducedChiSquare"],
                                                 t["verification"]["rankHistogram"]["reducedChiSquare"]),
        "Niño3.4 skewness (reference)": (n["skewness"], n["referenceSkewness"]),
        "volcanic error, mean over eruptions (K; true members)": (volcanic_error(g, ref)[0], volcanic_error(t, ref)[0]),
        "eruptions": volcanic_error(g, ref)[1],
    }
    correlation, truth = n.get("conditioningCorrelation"), t["nino34"].get("conditioningCorrelation")
    if correlation and truth:
        # Shared forced signal left by the linear detrending also correlates the true members.
        row["mean corr(Niño3.4, conditioning member) (true members)"] = (correlation["mean"], truth["mean"])
    return row


def text(value):
    if isinstance(value, tuple):
        return f"{text(value[0])} ({text(value[1])})"
    if isinstance(value, int):
        return str(value)
    if value != value:
        return "–"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"


def table(columns, title):
    """Markdown table: one row per metric, one column per (name, metrics) pair."""
    columns = [(name, m) for name, m in columns if m is not None]
    if not columns:
        return
    print(f"\n{title}\n")
    names = list(dict.fromkeys(k for _, m in columns for k in m))
    print("| metric | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for key in names:
        print(f"| {key} | " + " | ".join(text(m[key]) if key in m else "" for _, m in columns) + " |")


def report(work, name):
    path = os.path.join(work, name, "report.json")
    return metrics(load(path)) if os.path.exists(path) else None


def global_mean(ds):
    w = np.cos(np.deg2rad(ds.lat.values))
    w = w / w.sum() / ds.lon.size
    return (ds.tas.transpose("realization", "time", "lat", "lon").values.astype(np.float64)
            * w[None, None, :, None]).sum(axis=(2, 3))


def scenario_by_period(work, scenario):
    """Spread ratio, Niño3.4 std ratio and the ensemble-mean global-mean trend by period,
    generated against the reference members 1-30, and the VAE's reconstruction RMSE."""
    truth_path = os.path.join(work, f"{scenario}.nc")
    if not os.path.exists(truth_path):
        return
    truth = xr.open_dataset(truth_path)
    reference = truth.isel(realization=slice(1, 31))
    years = reference.time.dt.year.values
    periods = [(1850, 1899), (1900, 1949), (1950, 1999), (2000, 2049), (2050, 2100)]
    w = np.cos(np.deg2rad(truth.lat.values))[:, None] * np.ones(truth.lon.size)[None, :]
    w /= w.sum()

    def spread(x, mask):  # area-weighted mean of the members' variance about the ensemble mean
        a = x[:, mask]
        return float(np.sqrt((a.var(axis=0, ddof=1) * w).sum(axis=(1, 2)).mean()))

    def nino_std(ds, mask):
        box = ds.tas.sel(lat=slice(-5, 5), lon=slice(190, 240)).mean(("lat", "lon")).transpose("realization", "time").values[:, mask]
        months = ds.time.dt.month.values[mask]
        anomalies = box - box.mean(axis=0, keepdims=True)  # about the ensemble mean: internal variability
        for m in range(1, 13):
            anomalies[:, months == m] -= anomalies[:, months == m].mean(axis=1, keepdims=True)
        return float(anomalies.std())

    ref_fields = reference.tas.transpose("realization", "time", "lat", "lon").values
    rows, trends = {}, {}
    for kind in GENERATORS:
        path = os.path.join(work, f"gen-{scenario}-{kind}.nc")
        if not os.path.exists(path):
            continue
        gen = xr.open_dataset(path)
        gen_fields = gen.tas.transpose("realization", "time", "lat", "lon").values
        for first, last in periods:
            mask = (years >= first) & (years <= last)
            key = f"{first}–{last}"
            rows.setdefault(key, {})
            rows[key][f"spread ratio, {kind}"] = spread(gen_fields, mask) / spread(ref_fields, mask)
            rows[key][f"Niño3.4 std ratio, {kind}"] = nino_std(gen, mask) / nino_std(reference, mask)
        future = years >= 2015
        t = years[future] + (gen.time.dt.month.values[future] - 0.5) / 12
        slope = lambda series: float(np.polyfit(t, series[future], 1)[0] * 100)
        trends[kind] = slope(global_mean(gen).mean(0))
        trends["reference members"] = slope(global_mean(reference).mean(0))
    reconstruction = os.path.join(work, f"reconstruct-{scenario}.nc")
    if os.path.exists(reconstruction):
        rec = xr.open_dataset(reconstruction).tas.transpose("realization", "time", "lat", "lon").values
        original = truth.isel(realization=slice(1, 4)).tas.transpose("realization", "time", "lat", "lon").values
        for first, last in periods:
            mask = (years >= first) & (years <= last)
            error = np.sqrt((((rec[:, mask] - original[:, mask]) ** 2) * w).sum(axis=(2, 3)).mean())
            rows[f"{first}–{last}"]["VAE reconstruction RMSE (K)"] = float(error)
        gm = global_mean(truth.isel(realization=slice(1, 31))).mean(0)
        for first, last in periods:
            mask = (years >= first) & (years <= last)
            rows[f"{first}–{last}"]["global mean − 1850–1899 (K)"] = float(gm[mask].mean() - gm[(years >= 1850) & (years <= 1899)].mean())
    print(f"\nScenario {scenario} by period (generated / reference members 1–30)\n")
    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    print("| period | " + " | ".join(keys) + " |")
    print("| --- |" + " --- |" * len(keys))
    for period, r in rows.items():
        print(f"| {period} | " + " | ".join(text(r[k]) if k in r else "" for k in keys) + " |")
    print("\nTrend of the ensemble-mean global mean 2015–2100 (K/century): "
          + ", ".join(f"{name} {value:.2f}" for name, value in trends.items()))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    work = sys.argv[1]
    seeds = sorted({name[len("eval-seed"):].split("-")[0] for name in os.listdir(work) if name.startswith("eval-seed")},
                   key=int)
    scenarios = sorted({name[len("eval-"):].rsplit("-", 1)[0] for name in os.listdir(work)
                        if name.startswith("eval-ssp")})
    for kind in GENERATORS:
        table([(("training simulation" if s == "1" else f"unseen seed {s}"), report(work, f"eval-seed{s}-{kind}")) for s in seeds],
              f"Unseen simulations, {kind} (30 generated members, 30 reference members, 20 true members)")
        table([(f"trained 1850–{end}", report(work, f"eval-period-1850-{end}-{kind}")) for end in (2005, 1960)],
              f"Held-out period 1961–2005, {kind}")
        table([(s, report(work, f"eval-{s}-{kind}")) for s in scenarios],
              f"Scenarios 1850–2100, {kind} (conditioned on member 0 of the scenario run)")
    for s in scenarios:
        scenario_by_period(work, s)


if __name__ == "__main__":
    main()
