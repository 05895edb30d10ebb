"""Error-bounded compression side by side: ensemblegen compress/decompress, SZ3 (pysz),
ZFP fixed-accuracy (zfpy), netCDF-4 BitRound quantisation + deflate, and lossless
deflate + shuffle, on one NetCDF file at several absolute error bounds.

Usage: compress_bench.py BIN FILE LABEL OUT.json [BOUND ...]   (driven by compress.sh;
BIN '-' runs the other methods only)

Ratios are float32 bytes (values × 4) over compressed bytes; ours hold their basis (EOFs
and means) inside the file, so nothing else needs counting. Errors of every method are measured here with numpy against the
original (ours through Scripts/check-error-bound.py's reading, not the tool's own check).
Throughput is float32 megabytes per second of wall time; ours includes reading and writing
NetCDF files (decompression writes without deflate), the others work on arrays in memory.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import netCDF4
import numpy as np
import pysz
import zfpy


def load(path, variable):
    """The data variable as float32 (member, time, lat, lon), in the file's units."""
    with netCDF4.Dataset(path) as f:
        v = f[variable]
        dims = list(v.dimensions)
        x = np.asarray(v[:], dtype=np.float32)
    order = []
    for role in (("realization", "member", "ensemble"), ("time",), ("lat", "latitude", "y"), ("lon", "longitude", "x")):
        found = [k for k, d in enumerate(dims) if d in role]
        order.append(found[0] if found else None)
    if order[0] is None:
        x = x[np.newaxis]
        order = [0] + [k + 1 for k in order[1:]]
    return np.ascontiguousarray(np.transpose(x, order))


def errors(x, y):
    """Largest and RMS |x − y|, member by member (memory: one member in double)."""
    largest, squares = 0.0, 0.0
    for k in range(x.shape[0]):
        d = np.abs(x[k].astype(np.float64) - y[k].astype(np.float64))
        largest, squares = max(largest, float(d.max())), squares + float((d * d).sum())
    return largest, float(np.sqrt(squares / x.size))


def timed(f, *args):
    t = time.perf_counter()
    r = f(*args)
    return r, time.perf_counter() - t


def sz3(x, bound):
    # Singleton dimensions (one member) are dropped: they only pad the blocks.
    shape = x.shape
    x = np.ascontiguousarray(x.reshape([n for n in shape if n > 1]))
    config = pysz.szConfig()
    config.errorBoundMode = pysz.szErrorBoundMode.ABS
    config.absErrorBound = bound
    (packed, _), tc = timed(pysz.sz.compress, x, config)
    (y, _), td = timed(pysz.sz.decompress, packed, x.dtype, x.shape)
    return packed.nbytes, y.reshape(shape), tc, td


def zfp(x, bound):
    shape = x.shape
    x = np.ascontiguousarray(x.reshape([n for n in shape if n > 1]))
    packed, tc = timed(zfpy.compress_numpy, x, bound)
    y, td = timed(zfpy.decompress_numpy, packed)
    return len(packed), y.reshape(shape), tc, td


def netcdf(x, work, **settings):
    """Bytes of a NetCDF-4 file holding x with `settings`, x read back, times."""
    path = os.path.join(work, "baseline.nc")

    def write():
        with netCDF4.Dataset(path, "w") as f:
            for k, n in enumerate(x.shape):
                f.createDimension(f"d{k}", n)
            v = f.createVariable("x", "f4", tuple(f"d{k}" for k in range(x.ndim)),
                                 chunksizes=(1, 1) + x.shape[2:], **settings)
            v[:] = x

    def read():
        with netCDF4.Dataset(path) as f:
            return np.asarray(f["x"][:])

    _, tc = timed(write)
    y, td = timed(read)
    size = os.path.getsize(path)
    os.remove(path)
    return size, y, tc, td


def bitround(x, bound, work):
    """BitRound with the fewest mantissa bits that keep every value within the bound."""
    # Rounding to `bits` mantissa bits errs by up to 2^(exponent − bits − 1): start just below.
    start = max(1, int(np.floor(np.log2(float(np.abs(x).max()) / bound))) - 2)
    for bits in range(start, 24):
        size, y, tc, td = netcdf(x, work, zlib=True, complevel=1, shuffle=True, significant_digits=bits, quantize_mode="BitRound")
        if errors(x, y)[0] <= bound:
            return size, y, tc, td, bits
    raise RuntimeError("no BitRound precision meets the bound")


def ours(binary, path, variable, bound, work):
    compressed, decompressed = os.path.join(work, "x.egc.nc"), os.path.join(work, "x.nc")
    for p in (compressed, decompressed):
        if os.path.exists(p):
            os.remove(p)
    t = time.perf_counter()
    subprocess.run([binary, "compress", path, "--max-error", str(bound), "--quiet", "--output", compressed],
                   check=True, stdout=subprocess.DEVNULL)
    tc = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([binary, "decompress", compressed, "--deflate-level", "0", "--quiet", "--output", decompressed],
                   check=True, stdout=subprocess.DEVNULL)
    td = time.perf_counter() - t
    size = os.path.getsize(compressed)
    y = load(decompressed, variable)
    os.remove(compressed)
    os.remove(decompressed)
    return size, y, tc, td


def main():
    binary, path, label, out = sys.argv[1:5]
    bounds = [float(b) for b in sys.argv[5:]] or [0.01, 0.05, 0.1, 0.5]
    variable = "tas"
    x = load(path, variable)
    raw = x.size * 4
    mb = raw / 1e6
    rows = []
    work = tempfile.mkdtemp(dir=os.environ.get("TMPDIR"))

    def record(method, bound, size, y, tc, td, note=""):
        largest, rms = errors(x, y)
        row = dict(data=label, method=method, bound=bound, bytes=size, ratio=raw / size, max_error=largest, rms_error=rms,
                   compress_mb_s=mb / tc, decompress_mb_s=mb / td, note=note)
        rows.append(row)
        print(f"{label:>14} {method:>12} {bound:>6g}  ratio {row['ratio']:7.2f}  max {largest:.4g}  rms {rms:.4g}  "
              f"compress {row['compress_mb_s']:7.1f} MB/s  decompress {row['decompress_mb_s']:7.1f} MB/s {note}", flush=True)

    record("deflate", 0, *netcdf(x, work, zlib=True, complevel=1, shuffle=True), note="lossless, level 1 + shuffle")
    for bound in bounds:
        if binary != "-":
            record("ensemblegen", bound, *ours(binary, path, variable, bound, work))
        record("SZ3", bound, *sz3(x, bound))
        record("ZFP", bound, *zfp(x, bound))
        size, y, tc, td, bits = bitround(x, bound, work)
        record("BitRound", bound, size, y, tc, td, note=f"{bits} mantissa bits + deflate")
    os.rmdir(work)
    with open(out, "w") as f:
        json.dump(dict(data=label, file=os.path.basename(path), shape=list(x.shape), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
