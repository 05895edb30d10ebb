"""Diagnostics of a decompressed ensemble against its original, from `ensemblegen evaluate
--generated DECOMPRESSED --reference ORIGINAL` (report.json): what changes by compression.

Usage: compress_diagnostics.py LABEL REPORT.json
"""
import json
import sys

import numpy as np


def main():
    label, path = sys.argv[1], sys.argv[2]
    report = json.load(open(path))
    reference, candidate = report["reference"], report["candidates"][0]
    volcanic = max(float(np.max(np.abs(np.array(c["ensembleMean"]) - np.array(r["ensembleMean"]))))
                   for c, r in zip(candidate["diagnostics"]["volcanic"], reference["volcanic"]))
    n = candidate["nino34"]
    print(f"| {label} | {candidate['comparison']['spreadRatio']:.5f} | {n['standardDeviationRatio']:.5f} | "
          f"{n['peakPeriodYears']:.3f} / {n['referencePeakPeriodYears']:.3f} | {volcanic:.4f} | "
          f"{candidate['variability']['eof1PatternCorrelation']:.5f} | {candidate['comparison']['ensembleMeanRMSE']:.4f} |")


if __name__ == "__main__":
    main()
