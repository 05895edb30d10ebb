"""Window-stitching check of a transformer-generated ensemble.

Usage: seam_check.py GENERATED.nc TRUE.nc CONDITIONING_MEMBER [--stride 40]

Each member is reduced to two series: the global mean and the Niño3.4-box mean of its
departure from the ensemble mean (which removes the conditioning member's variability,
common to every residual), each member's time mean removed. A seam is a month pair
(t-1, t) where t starts a window (t = stride·k, k ≥ 1; the stride is the number of months
a window adds, `generate --kept-months`).

ENSO persistence depends on the calendar (high across December→January, low across the
spring barrier), and seams fall on a few calendar months only (stride 40: January, May,
September; stride 36: January), so seam pairs are compared with the pairs inside windows
that end in the same calendar month: for each month c the lag-1 correlation at seams and
inside, and their difference averaged with the seams' weights. Standard error from the
Fisher-style approximation (1 - r²)·sqrt(1/n_seam + 1/n_inside) per month, combined.
The same statistics of the true members (against the same conditioning member) are
printed for reference: with no windows there, their "seams" differ from the inside only
by sampling error.
"""
import argparse
import numpy as np
import xarray as xr


def lag1(series, select):
    x, y = series[:, :-1][:, select].ravel(), series[:, 1:][:, select].ravel()
    return np.corrcoef(x, y)[0, 1], x.size


def compare(series, months, stride):
    """Calendar-matched seam-minus-inside lag-1 difference, its standard error, and the
    unmatched correlations (all seams, all inside pairs)."""
    T = series.shape[1]
    seam = np.zeros(T, dtype=bool)
    seam[np.arange(stride, T, stride)] = True
    seam, month = seam[1:], months[1:]      # pair (t-1, t) is labelled by t
    weights, diffs, variances = [], [], []
    for c in np.unique(month[seam]):
        r_s, n_s = lag1(series, seam & (month == c))
        r_i, n_i = lag1(series, ~seam & (month == c))
        weights.append(n_s)
        diffs.append(r_s - r_i)
        variances.append((1 - r_i ** 2) ** 2 * (1 / n_s + 1 / n_i))
    w = np.array(weights, dtype=float) / sum(weights)
    difference = float((w * np.array(diffs)).sum())
    error = float(np.sqrt((w ** 2 * np.array(variances)).sum()))
    return difference, error, lag1(series, seam), lag1(series, ~seam)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("generated")
    p.add_argument("true")
    p.add_argument("conditioning", type=int)
    p.add_argument("--stride", "--block", type=int, default=40, help="months added per window")
    a = p.parse_args()
    gen_ds = xr.open_dataset(a.generated)
    gen = gen_ds.tas.transpose("realization", "time", "lat", "lon")
    true = xr.open_dataset(a.true).tas.transpose("realization", "time", "lat", "lon")
    cond = true.isel(realization=a.conditioning).values.astype(np.float64)
    months = gen_ds["time"].dt.month.values
    lat, lon = gen.lat.values, gen.lon.values
    w = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size)[None, :]
    nino = ((lat >= -5) & (lat <= 5))[:, None] & ((lon >= 190) & (lon <= 240))[None, :]
    others = [m for m in range(true.sizes["realization"]) if m != a.conditioning]
    for name, mask in (("global mean", np.ones_like(w, dtype=bool)), ("Niño3.4 box", nino)):
        ww = np.where(mask, w, 0)
        for label, values in (("generated", gen.values), ("true", true.values[others])):
            residual = values.astype(np.float64) - cond[None]
            series = (residual * ww).sum(axis=(2, 3)) / ww.sum()
            # The conditioning member's variability is common to every residual and would make
            # the members' pairs dependent: keep each member's departure from the ensemble mean.
            series -= series.mean(axis=0, keepdims=True)
            series -= series.mean(axis=1, keepdims=True)
            d, se, (r_seam, n_seam), (r_in, n_in) = compare(series, months, a.stride)
            print(f"{name}, {label}: lag-1 across seams {r_seam:.3f} (n={n_seam}), inside {r_in:.3f} (n={n_in}); "
                  f"same calendar months: difference {d:+.3f} = {d / se:+.1f} standard errors")


if __name__ == "__main__":
    main()
