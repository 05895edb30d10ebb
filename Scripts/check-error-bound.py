#!/usr/bin/env python3
"""Checks a decompressed file against its original, independently of EnsembleGen's code.

Usage: check-error-bound.py ORIGINAL.nc DECOMPRESSED.nc VARIABLE MAX_ERROR

- every value of VARIABLE: |original - decompressed| <= MAX_ERROR (in the variable's
  units, after netCDF4's own unpacking), and missing exactly where the original is;
- the same dimensions (names, lengths), global attributes, and variables (names, types,
  dimensions, attributes) in the same order; every other variable's values identical.

Prints the largest and RMS error and "metadata identical"; exit status 1 on any difference.
"""
import sys

import netCDF4
import numpy as np


def attributes(obj):
    return [(name, np.asarray(obj.getncattr(name)).tolist()) for name in obj.ncattrs()]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    original_path, decompressed_path, name, bound = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    a, b = netCDF4.Dataset(original_path), netCDF4.Dataset(decompressed_path)
    problems = []
    dims_a = [(d.name, len(d)) for d in a.dimensions.values()]
    dims_b = [(d.name, len(d)) for d in b.dimensions.values()]
    if dims_a != dims_b:
        problems.append(f"dimensions differ: {dims_a} vs {dims_b}")
    if attributes(a) != attributes(b):
        problems.append("global attributes differ")
    if list(a.variables) != list(b.variables):
        problems.append(f"variables differ: {list(a.variables)} vs {list(b.variables)}")
    for v in a.variables:
        if v not in b.variables:
            continue
        va, vb = a.variables[v], b.variables[v]
        if va.dimensions != vb.dimensions:
            problems.append(f"{v}: dimensions {va.dimensions} vs {vb.dimensions}")
        if attributes(va) != attributes(vb):
            problems.append(f"{v}: attributes differ: {attributes(va)} vs {attributes(vb)}")
        if v == name:
            continue
        if va.dtype != vb.dtype:
            problems.append(f"{v}: type {va.dtype} vs {vb.dtype}")
        if not np.array_equal(np.ma.filled(va[:], 0), np.ma.filled(vb[:], 0)):
            problems.append(f"{v}: values differ")
    x, y = a.variables[name], b.variables[name]
    largest, squares, count = 0.0, 0.0, 0
    # One index of the outermost dimension at a time: files of several GB fit in memory.
    for k in range(x.shape[0]):
        xa, ya = x[k], y[k]
        ma, mb = np.ma.getmaskarray(xa), np.ma.getmaskarray(ya)
        if not np.array_equal(ma, mb):
            problems.append(f"{name}[{k}]: missing values differ")
        d = np.abs(np.ma.filled(xa, 0).astype(np.float64) - np.ma.filled(ya, 0).astype(np.float64))[~ma]
        if d.size:
            largest = max(largest, float(d.max()))
            squares += float((d * d).sum())
            count += d.size
    rms = (squares / max(count, 1)) ** 0.5
    print(f"{name}: {count} values, max error {largest:.6g}, RMS {rms:.6g} (bound {bound:g})")
    if largest > bound:
        problems.append(f"{name}: max error {largest:.9g} exceeds the bound {bound:g}")
    if problems:
        for p in problems:
            print("error:", p)
        sys.exit(1)
    print("metadata identical")


if __name__ == "__main__":
    main()
