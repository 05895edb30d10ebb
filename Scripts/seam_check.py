"""Window-stitching check of a transformer-generated ensemble.

Usage: seam_check.py GENERATED.nc TRUE.nc CONDITIONING_MEMBER [--block 40]
The residual of each generated member against the conditioning member (its decoded
residual) is reduced to two series per member: the global mean and the Niño3.4-box mean.
Their lag-1 autocorrelation is computed separately over month pairs (t-1, t) where t is
the first new month of a window (t = block·k, k ≥ 1: a seam) and over all other pairs,
and compared with the standard error of the difference, (1 - r²)·sqrt(1/n_seam + 1/n_inside).
"""
import argparse
import numpy as np
import xarray as xr


def main():
    p = argparse.ArgumentParser()
    p.add_argument("generated")
    p.add_argument("true")
    p.add_argument("conditioning", type=int)
    p.add_argument("--block", type=int, default=40)
    a = p.parse_args()
    gen = xr.open_dataset(a.generated).tas.transpose("realization", "time", "lat", "lon")
    cond = xr.open_dataset(a.true).tas.transpose("realization", "time", "lat", "lon").isel(realization=a.conditioning)
    lat, lon = gen.lat.values, gen.lon.values
    w = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size)[None, :]
    nino = ((lat >= -5) & (lat <= 5))[:, None] & ((lon >= 190) & (lon <= 240))[None, :]
    residual = gen.values.astype(np.float64) - cond.values[None].astype(np.float64)
    T = residual.shape[1]
    seam = np.zeros(T, dtype=bool)
    seam[np.arange(a.block, T, a.block)] = True
    for name, mask in (("global mean", np.ones_like(w, dtype=bool)), ("Niño3.4 box", nino)):
        ww = np.where(mask, w, 0)
        series = (residual * ww).sum(axis=(2, 3)) / ww.sum()
        series -= series.mean(axis=1, keepdims=True)
        rows = []
        for select in (seam[1:], ~seam[1:]):
            x, y = series[:, :-1][:, select].ravel(), series[:, 1:][:, select].ravel()
            rows.append((np.corrcoef(x, y)[0, 1], x.size))
        (r_seam, n_seam), (r_in, n_in) = rows
        se = (1 - r_in ** 2) * np.sqrt(1 / n_seam + 1 / n_in)
        print(f"{name}: lag-1 across seams {r_seam:.3f} (n={n_seam}), inside windows {r_in:.3f} (n={n_in}), "
              f"difference {r_seam - r_in:+.3f} = {(r_seam - r_in) / se:+.1f} standard errors")


if __name__ == "__main__":
    main()
