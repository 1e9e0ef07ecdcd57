"""Issue 17's statistics once more, in numpy, from the issue's definitions (not from the TypeScript).

Usage: /usr/bin/python3 tools/reference/readouts/tracks_reference.py [input.json [output.json]]
Defaults: packages/stats/test/fixtures/readouts/tracks-input.json → tracks-reference.json beside it.

Track A   T = mean_i |<Δ̄, d_i/‖d_i‖>| over the chosen latents, the same for every given null set;
          p = (1 + #{T_null ≥ T}) / (1 + N).
Track B   D_pj = a_pj − b_pj; inactive: D ≡ 0; degenerate: max_p D − min_p D ≤ 1e-6 · max_p max(|a_pj|, |b_pj|);
          the rest are tested: t = mean / (sd(ddof 1)/√P), d_z = mean / sd; under flip k, t_kj is the same t of s_kp·D_pj;
          per-feature p_j = (1 + #{k : |t_kj| ≥ |t_j|}) / (1 + N), family-wise p_j = (1 + #{k : max_j' |t_kj'| ≥ |t_j|}) /
          (1 + N), the max over tested latents.
Seed rule T_j = mean D_pj against numpy.percentile(|mean_p s_kp D_pj| over k, q, method="higher"); passes when |T_j|
          is above it; inactive latents never pass.
Spearman  Pearson r of average ranks; p from the given permutations of y, two-sided; percentile bootstrap interval
          (numpy's default linear percentile) over the given resamples, resamples with a constant side skipped.
"As extreme" allows rounding: null ≥ observed − 1e-9·|observed| (− 1e-12 more for t and ρ).
"""

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[3] / "packages/stats/test/fixtures/readouts"
INPUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "tracks-input.json"
OUTPUT = Path(sys.argv[2]) if len(sys.argv) > 2 else INPUT.with_name("tracks-reference.json")


def at_least(values, observed, absolute=0.0):
    return values >= observed - 1e-9 * np.abs(observed) - absolute


def track_a(inp):
    delta = np.array(inp["meanDifference"])
    W = np.array(inp["decoder"])

    def statistic(rows):
        dirs = W[rows] / np.linalg.norm(W[rows], axis=1, keepdims=True)
        return np.mean(np.abs(dirs @ delta)), dirs @ delta

    T, proj = statistic(np.array(inp["chosen"]))
    null = np.array([statistic(np.array(s))[0] for s in inp["nullSets"]])
    return {
        "statistic": T,
        "projections": proj.tolist(),
        "nPositive": int(np.sum(proj > 0)),
        "nNegative": int(np.sum(proj < 0)),
        "nullStatistics": null.tolist(),
        "nullMean": float(null.mean()),
        "pValue": float((1 + np.sum(at_least(null, T))) / (1 + len(null))),
    }


def paired_t(D):  # D: [..., P, L] → t, d_z over the prompt axis
    P = D.shape[-2]
    m = D.mean(axis=-2)
    sd = D.std(axis=-2, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m / (sd / np.sqrt(P)), m / sd


def track_b(inp):
    a, b = np.array(inp["a"]), np.array(inp["b"])
    S = np.array(inp["signs"], dtype=float)  # [N, P]
    D = a - b
    P, L = D.shape
    N = S.shape[0]
    inactive = np.all(D == 0, axis=0)
    scale = np.max(np.maximum(np.abs(a), np.abs(b)), axis=0)
    degenerate = ~inactive & (np.ptp(D, axis=0) <= 1e-6 * scale)
    tested = ~inactive & ~degenerate
    t, dz = paired_t(D)
    t_null = np.abs(paired_t(S[:, :, None] * D[None, :, :])[0])  # [N, L]
    t_null = np.where(np.isnan(t_null), np.inf, t_null)  # all flipped differences equal: infinite t
    max_null = t_null[:, tested].max(axis=1) if tested.any() else np.zeros(N)
    observed = np.abs(t)
    p_feature = np.full(L, np.nan)
    p_family = np.full(L, np.nan)
    for j in np.flatnonzero(tested):
        p_feature[j] = (1 + np.sum(at_least(t_null[:, j], observed[j], 1e-12))) / (1 + N)
        p_family[j] = (1 + np.sum(at_least(max_null, observed[j], 1e-12))) / (1 + N)
    alpha = inp["alpha"]
    nan_where = lambda v: np.where(tested, v, np.nan)  # noqa: E731
    out = {
        "t": nan_where(t).tolist(),
        "dz": nan_where(dz).tolist(),
        "meanDifference": D.mean(axis=0).tolist(),
        "pPerFeature": p_feature.tolist(),
        "pFamilywise": p_family.tolist(),
        "maxNull": max_null.tolist(),
        "degenerate": np.flatnonzero(degenerate).tolist(),
        "nInactive": int(inactive.sum()),
        "nActive": int(tested.sum()),
        "passFamilywise": np.flatnonzero(tested & (np.nan_to_num(p_family, nan=2) <= alpha)).tolist(),
        "passPerFeature": np.flatnonzero(tested & (np.nan_to_num(p_feature, nan=2) <= alpha)).tolist(),
        "seedRule": [],
    }
    T = D.mean(axis=0)
    null_abs = np.abs((S[:, :, None] * D[None, :, :]).mean(axis=1))  # [N, L]
    for q in inp["percentiles"]:
        thresholds = np.percentile(null_abs, q, axis=0, method="higher")
        thresholds = np.where(inactive, 0.0, thresholds)
        passed = ~inactive & (thresholds < np.abs(T) - 1e-9 * np.abs(T))
        out["seedRule"].append(
            {"percentile": q, "thresholds": thresholds.tolist(), "pass": np.flatnonzero(passed).tolist()}
        )
    return out


def average_ranks(v):
    less = (v[None, :] < v[:, None]).sum(axis=1)
    equal = (v[None, :] == v[:, None]).sum(axis=1)
    return less + (equal + 1) / 2


def spearman(x, y):
    rx, ry = average_ranks(x), average_ranks(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def correlation(inp):
    x, y = np.array(inp["x"]), np.array(inp["y"])
    rho = spearman(x, y)
    rx, ry = average_ranks(x), average_ranks(y)
    null = np.array([abs(np.corrcoef(rx, ry[perm])[0, 1]) for perm in np.array(inp["permutations"])])
    boot = np.array([spearman(x[idx], y[idx]) for idx in np.array(inp["bootstrapIndices"])])
    boot = boot[~np.isnan(boot)]
    tail = (1 - inp["confidence"]) / 2
    return {
        "rho": rho,
        "pValue": float((1 + np.sum(at_least(null, abs(rho), 1e-12))) / (1 + len(null))),
        "ci": [float(np.percentile(boot, 100 * tail)), float(np.percentile(boot, 100 * (1 - tail)))],
        "nBootstrapUsed": int(len(boot)),
    }


def strict_json(value):
    """NaN (no t or p for degenerate and inactive latents) is written as null: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict_json(v) for v in value]
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def main():
    inp = json.loads(INPUT.read_text())
    out = {
        "numpy": np.__version__,
        "trackA": track_a(inp["trackA"]),
        "trackB": track_b(inp["trackB"]),
        "correlation": correlation(inp["correlation"]),
    }
    OUTPUT.write_text(json.dumps(strict_json(out), allow_nan=False) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
