"""Volcanic and forced-response check of a generated ensemble against the full true ensemble.

Usage: volcanic_check.py GENERATED.nc TRUE.nc   (every member of TRUE is used)
Prints, for Pinatubo (1991-06) and Agung (1963-03), the peak cooling of the ensemble-mean
global mean (seasonal cycle removed, relative to the 12 months before; minimum over lags
0-24) for the generated and the true ensemble, and the area-weighted RMSE of the generated
ensemble mean against the true ensemble mean with the RMSE expected from sampling alone.
"""
import sys
import numpy as np
import xarray as xr


def members(ds):
    return ds.tas.transpose("realization", "time", "lat", "lon").values.astype(np.float64)


def main():
    gen, true = xr.open_dataset(sys.argv[1]), xr.open_dataset(sys.argv[2])
    g, t = members(gen), members(true)
    w = np.cos(np.deg2rad(true.lat.values))[:, None] * np.ones(true.lon.size)[None, :]
    w /= w.sum()
    months = true.time.dt.month.values
    years = true.time.dt.year.values

    def deseasoned_global(x):  # member × time global means minus the ensemble's monthly climatology
        gm = (x * w).sum(axis=(2, 3))
        clim = np.array([gm[:, months == m].mean() for m in range(1, 13)])
        return gm - clim[months - 1]

    gg, tg = deseasoned_global(g).mean(0), deseasoned_global(t).mean(0)
    for name, (y, m) in {"Pinatubo": (1991, 6), "Agung": (1963, 3)}.items():
        i = int(np.where((years == y) & (months == m))[0][0])
        peaks = []
        for series in (gg, tg):
            base = series[i - 12:i].mean()
            peaks.append((series[i:i + 25] - base).min())
        print(f"{name}: generated mean peak {peaks[0]:.3f} K, true mean peak {peaks[1]:.3f} K, difference {peaks[0] - peaks[1]:+.3f} K")
    gm_mean, t_mean = g.mean(0), t.mean(0)
    rmse = np.sqrt((((gm_mean - t_mean) ** 2) * w).sum(axis=(1, 2)).mean())
    var_g, var_t = (g.var(0, ddof=1) * w).sum(axis=(1, 2)).mean(), (t.var(0, ddof=1) * w).sum(axis=(1, 2)).mean()
    expected = np.sqrt(var_g / g.shape[0] + var_t / t.shape[0])
    one_member = np.sqrt((((t[0] - t_mean) ** 2) * w).sum(axis=(1, 2)).mean())
    print(f"ensemble-mean RMSE vs the {t.shape[0]}-member true mean: {rmse:.3f} K (sampling alone: {expected:.3f} K; "
          f"one true member vs the true mean / sqrt(10): {one_member / np.sqrt(10):.3f} K)")


if __name__ == "__main__":
    main()
