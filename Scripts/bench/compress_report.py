"""Table (markdown) and ratio-against-bound plot (PNG) of compress_bench.py results.

Usage: compress_report.py OUT_DIR RESULT.json ...   (writes OUT_DIR/compress.md, compress.png)
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


def main():
    out, files = sys.argv[1], sys.argv[2:]
    order = ["sim 32x64", "sim 96x192", "CMIP6 32x64", "CMIP6 20x20"]
    results = sorted((json.load(open(f)) for f in files), key=lambda r: order.index(r["data"]) if r["data"] in order else len(order))
    lines = ["| data | method | max error bound (K) | ratio | max error (K) | RMS error (K) | compress MB/s | decompress MB/s | note |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        for row in r["rows"]:
            bound = "lossless" if row["bound"] == 0 else f"{row['bound']:g}"
            lines.append(f"| {row['data']} | {row['method']} | {bound} | {row['ratio']:.1f} | {row['max_error']:.4f} | "
                         f"{row['rms_error']:.4f} | {row['compress_mb_s']:.0f} | {row['decompress_mb_s']:.0f} | {row['note']} |")
    # Our ratio over SZ3's at each bound.
    lines += ["", "| data | bound (K) | ensemblegen / SZ3 | ensemblegen / ZFP | ensemblegen / BitRound | decompress time / SZ3's |", "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        rows = r["rows"]
        for b in sorted({row["bound"] for row in rows if row["method"] == "ensemblegen"}):
            get = {row["method"]: row for row in rows if row["bound"] == b}
            e = get["ensemblegen"]
            lines.append(f"| {r['data']} | {b:g} | {e['ratio'] / get['SZ3']['ratio']:.2f} | {e['ratio'] / get['ZFP']['ratio']:.2f} | "
                         f"{e['ratio'] / get['BitRound']['ratio']:.2f} | {get['SZ3']['decompress_mb_s'] / e['decompress_mb_s']:.1f} |")
    with open(os.path.join(out, "compress.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    styles = {"ensemblegen": ("C3", "o"), "SZ3": ("C0", "s"), "ZFP": ("C2", "^"), "BitRound": ("C1", "v")}
    for ax, r in zip(axes[0], results):
        for method, (colour, marker) in styles.items():
            rows = sorted((row for row in r["rows"] if row["method"] == method), key=lambda row: row["bound"])
            if rows:
                ax.plot([row["bound"] for row in rows], [row["ratio"] for row in rows], color=colour, marker=marker, label=method)
        lossless = [row for row in r["rows"] if row["method"] == "deflate"]
        if lossless:
            ax.axhline(lossless[0]["ratio"], color="grey", linestyle=":", label="deflate (lossless)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("max error bound (K)")
        ax.set_title(r["data"])
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("compression ratio (float32 / compressed)")
    # One legend for all panels, from the panel with the most methods.
    handles, labels = max((ax.get_legend_handles_labels() for ax in axes[0]), key=lambda hl: len(hl[1]))
    axes[0][0].legend(handles, labels, fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "compress.png"), dpi=110)


if __name__ == "__main__":
    main()
