"""Markdown table of the model card (Docs/model-card.md) from `ensemblegen evaluate` reports.

Usage: model_card_table.py EVAL_DIR_AUTOREGRESSIVE EVAL_DIR_TRANSFORMER   (each holding report.json)
       model_card_table.py Data/default/training.json                    (the reports stored with the model)
Each report holds the generated ensemble, the true training members and, when evaluated with
one, the baseline, all scored against the held-out members; a model with one generator
(Data/t63) gives one generated column. After the table, the figures the model card
quotes beside it: fair CRPS to five digits, the rank histogram's reduced chi-square and
the ensemble-mean RMSE with the part expected from finite-ensemble sampling.
"""
import json
import sys


def rows(report):
    by = {c["name"]: c for c in report["candidates"]}
    return by


def reports(args):
    """The evaluation reports by generator name."""
    if len(args) == 1 and args[0].endswith(".json"):
        return json.load(open(args[0]))["evaluation"]
    if len(args) != 2:
        sys.exit(__doc__)
    return {name: json.load(open(f"{d}/report.json")) for name, d in zip(["autoregressive", "transformer"], args)}


def main():
    by_generator = reports(sys.argv[1:])
    first = next(iter(by_generator.values()))
    columns = [(name, rows(report)["generated"]) for name, report in by_generator.items()]
    truth, base = rows(first)["training"], rows(first).get("baseline")
    columns += ([("baseline", base)] if base else []) + [("true members 0–29", truth)]
    crps_true = truth["verification"]["crpsFair"]

    def lag1_error(c):
        return abs(c["variability"]["lag1"] - c["variability"]["referenceLag1"])

    def pinatubo(diagnostics):
        return next(e["peakAnomaly"] for e in diagnostics["volcanic"] if e["name"] == "Pinatubo")

    reference = first["reference"]
    pinatubo_reference = pinatubo(reference)

    def abs_correlation(c):
        values = c["nino34"]["conditioningCorrelation"]["perMember"]
        return sum(abs(v) for v in values) / len(values)

    def spectrum_error(c):
        return abs(c["nino34"]["peakPeriodYears"] - c["nino34"]["referencePeakPeriodYears"])

    metrics = [
        ("spread ratio (target 0.9–1.1)", lambda c: f"{c['comparison']['spreadRatio']:.3f}"),
        ("fair CRPS (K)", lambda c: f"{c['verification']['crpsFair']:.3f}"),
        ("CRPS ratio to true members (target ≤ 1.1)", lambda c: f"{c['verification']['crpsFair'] / crps_true:.3f}"),
        ("spread–skill ratio", lambda c: f"{c['verification']['spreadSkillRatio']:.3f}"),
        ("Niño3.4 std ratio (target 0.9–1.1)", lambda c: f"{c['nino34']['standardDeviationRatio']:.3f}"),
        ("Niño3.4 spectral peak (yr; held-out %.2f)" % truth["nino34"]["referencePeakPeriodYears"],
         lambda c: f"{c['nino34']['peakPeriodYears']:.2f}"),
        ("Niño3.4 spectral-peak error (yr)", lambda c: f"{spectrum_error(c):.2f}"),
        ("Niño3.4 std-by-calendar-month RMSE (K; phase locking)",
         lambda c: f"{c['nino34']['standardDeviationByMonthRMSE']:.3f}"),
        ("Niño3.4 skewness (held-out %.2f)" % truth["nino34"]["referenceSkewness"], lambda c: f"{c['nino34']['skewness']:.2f}"),
        ("mean corr(Niño3.4, conditioning member)", lambda c: f"{c['nino34']['conditioningCorrelation']['mean']:+.3f}"),
        ("mean absolute corr(Niño3.4, conditioning member)", lambda c: f"{abs_correlation(c):.3f}"),
        ("Pinatubo composite peak error (K; held-out %.3f)" % pinatubo_reference,
         lambda c: f"{pinatubo(c['diagnostics']) - pinatubo_reference:+.3f}"),
        ("volcanic composite RMSE (K)", lambda c: f"{c['variability']['volcanicCompositeRMSE']:.3f}"),
        ("lag-1 autocorrelation error", lambda c: f"{lag1_error(c):.3f}"),
        ("ENSO regression pattern corr.", lambda c: f"{c['nino34']['regressionPatternCorrelation']:.3f}"),
        ("EOF-1 / EOF-2 pattern corr.", lambda c: f"{c['variability']['eof1PatternCorrelation']:.3f} / {c['variability']['eof2PatternCorrelation']:.3f}"),
    ]
    print("| metric | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for label, f in metrics:
        print(f"| {label} | " + " | ".join(f(c) for _, c in columns) + " |")
    print()
    for name, c in columns:
        v, cmp = c["verification"], c["comparison"]
        print(f"{name}: fair CRPS {v['crpsFair']:.5f} K, rank histogram chi2/dof {v['rankHistogram']['reducedChiSquare']:.0f}, "
              f"ensemble-mean RMSE {cmp['ensembleMeanRMSE']:.3f} K (sampling alone {cmp['ensembleMeanRMSEExpected']:.3f} K)")


if __name__ == "__main__":
    main()
