"""Times two typical xarray reads of an ensemble file (for Scripts/bench/read-layout.sh):
one grid cell's full series over all members, and one month's field over all members.
Each is the median of 3 reads of different cells/months, each from a freshly opened file
(so netCDF's chunk cache starts empty). Prints "<cell seconds> <month seconds>"."""
import statistics
import sys
import time

import xarray as xr

path = sys.argv[1]


def timed(select):
    times = []
    for k in range(3):
        with xr.open_dataset(path, decode_times=False, cache=False) as ds:
            start = time.perf_counter()
            values = select(ds.tas, k).values
            times.append(time.perf_counter() - start)
            assert values.size > 0
    return statistics.median(times)


def cell(tas, k):
    return tas.isel(lat=tas.sizes["lat"] // 2 + k, lon=7 * k)


def month(tas, k):
    return tas.isel(time=tas.sizes["time"] // 2 + 5 * k)


print(f"{timed(cell):.3f} {timed(month):.3f}")
