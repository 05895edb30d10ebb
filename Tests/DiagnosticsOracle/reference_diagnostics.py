#!/usr/bin/env python3
"""Independent reference implementation of EnsembleGen's diagnostics (numpy / scipy).

Used by Tests/DiagnosticsTests/ReferenceComparisonTests.swift. The NetCDF writer is not
part of the Diagnostics module, so the test exchanges data through a directory holding

  input.json          grid, time axis, counts, options (see `load`)
  ensemble.f32        float32 little-endian, (member, time, lat, lon), NaN = missing
  observations.f32    float32 little-endian, (obs member, time, lat, lon)

and this script writes `reference.json` into the same directory.

Usage: reference_diagnostics.py <directory>

Every quantity is computed here directly from its definition with numpy, not by porting
the Swift code: region weights by vectorised overlap areas, the spectrum with
scipy.signal.welch, EOFs by numpy's SVD of the sqrt(area)-weighted anomaly matrix (the
Swift code diagonalises the covariance with LAPACK dsyevd), the fair CRPS by the
all-pairs formula, the standard CRPS also with properscoring when installed, and the
chi-square p-value with scipy.stats.
"""
import json
import os
import sys

import numpy as np


def load(directory):
    with open(os.path.join(directory, "input.json")) as f:
        meta = json.load(f)
    nlat, nlon = len(meta["latitudes"]), len(meta["longitudes"])
    T = meta["timeCount"]

    def read(name, members):
        a = np.fromfile(os.path.join(directory, name), dtype="<f4")
        return a.reshape(members, T, nlat, nlon).astype(np.float64)

    ens = read(meta["ensembleFile"], meta["memberCount"])
    obs = read(meta["observationsFile"], meta["observationMemberCount"])
    return meta, ens, obs


def area_weights(lat_b, lon_b):
    lat_b = np.radians(np.asarray(lat_b))
    wl = np.abs(np.sin(lat_b[:, 1]) - np.sin(lat_b[:, 0]))
    wx = np.abs(np.asarray(lon_b)[:, 1] - np.asarray(lon_b)[:, 0])
    w = np.outer(wl, wx)
    return w / w.sum()


def region_weights(lat_b, lon_b, lat_range, lon_range):
    lat_b = np.asarray(lat_b); lon_b = np.asarray(lon_b)
    lo = np.maximum(lat_b.min(axis=1), lat_range[0]); hi = np.minimum(lat_b.max(axis=1), lat_range[1])
    wl = np.where(hi > lo, np.sin(np.radians(hi)) - np.sin(np.radians(lo)), 0.0)
    wx = np.clip(np.minimum(lon_b.max(axis=1), lon_range[1]) - np.maximum(lon_b.min(axis=1), lon_range[0]), 0, None)
    w = np.outer(wl, wx)
    return w / w.sum()


def nino34(meta, ens):
    w = region_weights(meta["latitudeBounds"], meta["longitudeBounds"], (-5, 5), (190, 240))
    idx = np.einsum("mtyx,yx->mt", ens, w)
    months = np.asarray(meta["monthsOfYear"]); years = np.asarray(meta["years"])
    base = np.ones_like(years, dtype=bool)
    if meta.get("basePeriod"):
        base = (years >= meta["basePeriod"][0]) & (years <= meta["basePeriod"][1])
    for mo in range(1, 13):
        sel = months == mo
        idx[:, sel] -= idx[:, sel & base].mean()
    if meta["detrending"] == "linear":
        t = np.arange(idx.shape[1])
        for m in range(idx.shape[0]):
            p = np.polyfit(t, idx[m], 1)
            idx[m] -= np.polyval(p, t)
    return idx


def nino_stats(meta, idx):
    from scipy import signal, stats
    months = np.asarray(meta["monthsOfYear"])
    L = min(meta["segmentLength"], idx.shape[1])
    f, p = signal.welch(idx, fs=12.0, window="hann", nperseg=L, noverlap=L // 2, detrend="constant", axis=-1)
    return {
        "std": float(idx.std(ddof=1)),
        "skewness": float(stats.skew(idx.ravel(), bias=True)),
        "stdByMonth": [float(idx[:, months == mo].std(ddof=1)) for mo in range(1, 13)],
        "frequencies": f.tolist(),
        "density": p.mean(axis=0).tolist(),
    }


def regression_map(meta, ens, idx):
    months = np.asarray(meta["monthsOfYear"]); years = np.asarray(meta["years"])
    base = np.ones_like(years, dtype=bool)
    if meta.get("basePeriod"):
        base = (years >= meta["basePeriod"][0]) & (years <= meta["basePeriod"][1])
    anom = ens.copy()
    for mo in range(1, 13):
        sel = months == mo
        anom[:, sel] -= ens[:, sel & base].mean(axis=(0, 1))
    x = anom.reshape(-1, anom.shape[2] * anom.shape[3])
    d = idx.ravel() - idx.mean()
    x = x - x.mean(axis=0)
    return (x.T @ d / (d @ d)).tolist()


def internal_anomalies(ens):
    K = ens.shape[0]
    return (ens - ens.mean(axis=0, keepdims=True)) * np.sqrt(K / (K - 1))


def eof_fractions(meta, ens, k):
    w = area_weights(meta["latitudeBounds"], meta["longitudeBounds"]).ravel()
    a = internal_anomalies(ens).reshape(ens.shape[0] * ens.shape[1], -1)
    a = a - a.mean(axis=0)
    s = np.linalg.svd(a * np.sqrt(w), compute_uv=False)
    var = s ** 2
    return (var[:k] / var.sum()).tolist()


def autocorrelation(ens, lag):
    a = internal_anomalies(ens)
    a = a - a.mean(axis=1, keepdims=True)
    num = (a[:, :-lag] * a[:, lag:]).sum(axis=(0, 1))
    den = (a * a).sum(axis=(0, 1))
    return (num / den).ravel().tolist()


def verification(meta, ens, obs):
    from scipy import stats
    w = area_weights(meta["latitudeBounds"], meta["longitudeBounds"])
    m = ens.shape[0]
    # All-pairs mean absolute difference, (time, lat, lon).
    pair = np.abs(ens[:, None] - ens[None, :]).sum(axis=(0, 1))
    fair, std_crps, ranks, sq, var = [], [], [], [], []
    ens_mean = ens.mean(axis=0)
    ens_var = ens.var(axis=0, ddof=1)
    for o in range(obs.shape[0]):
        y = obs[o]
        abs_err = np.abs(ens - y[None]).mean(axis=0)
        fair.append(abs_err - pair / (2 * m * (m - 1)))
        std_crps.append(abs_err - pair / (2 * m * m))
        ranks.append((ens < y[None]).sum(axis=0))
        sq.append((ens_mean - y) ** 2)
        var.append(ens_var)
    wmean = lambda a: float((np.asarray(a) * w).sum() / (w.sum() * len(a) * a[0].shape[0]))
    counts = np.bincount(np.asarray(ranks).ravel(), minlength=m + 1)
    chi2, p = stats.chisquare(counts)
    spread, rmse = np.sqrt(wmean(var)), np.sqrt(wmean(sq))
    out = {
        "crpsFair": wmean(fair),
        "crpsStandard": wmean(std_crps),
        "rankCounts": counts.tolist(),
        "chiSquare": float(chi2),
        "pValue": float(p),
        "spreadSkillRatio": float(np.sqrt((m + 1) / m) * spread / rmse),
    }
    try:
        import properscoring as ps
        # properscoring's crps_ensemble is the standard (not fair) ensemble CRPS.
        c = np.stack([ps.crps_ensemble(obs[o], np.moveaxis(ens, 0, -1)) for o in range(obs.shape[0])])
        out["crpsStandardProperscoring"] = wmean(list(c))
    except ImportError:
        pass
    # Spread ratio of ensemble vs observation ensemble (both treated as ensembles).
    sg = ens.std(axis=0, ddof=1); sr = obs.std(axis=0, ddof=1)
    out["spreadRatio"] = float((sg * w).sum() / (sr * w).sum())
    return out


def main():
    directory = sys.argv[1]
    meta, ens, obs = load(directory)
    idx = nino34(meta, ens)
    result = {
        "nino34": idx.tolist(),
        "ninoStats": nino_stats(meta, idx),
        "regressionMap": regression_map(meta, ens, idx),
        "eofVarianceFractions": eof_fractions(meta, ens, meta["eofModeCount"]),
        "lag1": autocorrelation(ens, 1),
        "lag12": autocorrelation(ens, 12),
        "verification": verification(meta, ens, obs),
    }
    with open(os.path.join(directory, "reference.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
