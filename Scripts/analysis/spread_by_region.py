"""Spread ratio of generated ensembles against true members, by region.

Usage: spread_by_region.py TRUE.nc GENERATED.nc [GENERATED.nc ...] [--true-members 30-39]
Prints the spread ratio as `ensemblegen evaluate` defines it (area-weighted sum over cells
and months of the ensemble standard deviation, ddof 1, generated over true) over three
latitude bands and the Niño3.4 box (5S-5N, 170W-120W). A generator with the right global
spread can still lack spread where one mode of variability lives.
"""
import numpy as np
import xarray as xr
from spread_by_timescale import arguments, members

REGIONS = ("90S-30S", "30S-30N", "30N-90N", "Nino3.4")


def masks(lat, lon):
    band = lambda m: m[:, None] & np.ones(lon.size, bool)[None, :]
    return {
        "90S-30S": band(lat < -30), "30S-30N": band(abs(lat) <= 30), "30N-90N": band(lat > 30),
        "Nino3.4": (abs(lat) <= 5)[:, None] & ((lon >= 190) & (lon <= 240))[None, :],
    }


def spreads(x, weights, regions):
    std = x.std(axis=0, ddof=1).mean(axis=0) * weights   # time-mean ensemble std per cell, weighted
    return {name: float(std[mask].sum()) for name, mask in regions.items()}


def main():
    args, selection = arguments(__doc__)
    grid = xr.open_dataset(args[0])
    lat, lon = grid.lat.values, grid.lon.values % 360
    weights = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size)[None, :]
    regions = masks(lat, lon)
    reference = spreads(members(args[0], selection), weights, regions)
    print("spread ratio by region: " + " ".join(f"{r:>8}" for r in REGIONS))
    for path in args[1:]:
        s = spreads(members(path), weights, regions)
        print(f"{path:45} " + " ".join(f"{s[r] / reference[r]:8.3f}" for r in REGIONS))


if __name__ == "__main__":
    main()
