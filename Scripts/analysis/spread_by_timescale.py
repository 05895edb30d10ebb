"""Spread ratio of generated ensembles against true members, resolved by averaging time scale.

Usage: spread_by_timescale.py TRUE.nc GENERATED.nc [GENERATED.nc ...] [--true-members 30-39]
For running means over 1, 3, 12, 36 and 120 months, prints the spread ratio as
`ensemblegen evaluate` defines it (area-weighted sum over cells and times of the ensemble
standard deviation, ddof 1, generated over true). At 1 month it equals evaluate's `spread`.
A generator can match the monthly spread while missing the spread of annual or decadal
means (too little month-to-month persistence), or be over-dispersed at every scale.
"""
import sys
import numpy as np
import xarray as xr

WINDOWS = (1, 3, 12, 36, 120)


def members(path, selection=None):
    x = xr.open_dataset(path).tas.transpose("realization", "time", "lat", "lon")
    if selection is not None:
        x = x.isel(realization=selection)
    return x.values.astype(np.float64)


def spread(x, weights, window):
    if window > 1:  # running means over `window` months
        c = np.cumsum(x, axis=1)
        x = (c[:, window:] - c[:, :-window]) / window
    return float((x.std(axis=0, ddof=1) * weights).sum())


def arguments(usage):
    """(paths, true-member selection) from the command line: TRUE GEN... [--true-members A-B]."""
    args = sys.argv[1:]
    selection = slice(30, 40)
    if "--true-members" in args:
        i = args.index("--true-members")
        first, last = map(int, args[i + 1].split("-"))
        selection = slice(first, last + 1)
        del args[i:i + 2]
    if len(args) < 2:
        sys.exit(usage)
    return args, selection


def main():
    args, selection = arguments(__doc__)
    true = members(args[0], selection)
    lat = xr.open_dataset(args[0]).lat.values
    weights = np.cos(np.deg2rad(lat))[:, None] * np.ones(true.shape[3])[None, :]
    reference = {w: spread(true, weights, w) for w in WINDOWS}
    print("spread ratio by running-mean window (months): " + " ".join(f"{w:>6}" for w in WINDOWS))
    for path in args[1:]:
        g = members(path)
        print(f"{path:45} " + " ".join(f"{spread(g, weights, w) / reference[w]:6.3f}" for w in WINDOWS))


if __name__ == "__main__":
    main()
