"""Issue 17's Track A, Track B and condition similarity recomputed in numpy from a run `sae-conditions` saved.

Usage: /usr/bin/python3 tools/reference/readouts/app_run_check.py [fixture folder]
Default folder: apps/readouts/test/fixtures/reference-run (written by make_app_run_fixture.ts). Reads
layer_L.safetensors (parsed here: 8-byte header length, JSON header, raw little-endian data), decoder.npy (the SAE's
`decoder.weight` as dictionary_learning stores it, [d, d_sae]), fixture.json (the run's analysis settings) and
results.json; writes expected.json and prints the largest difference from results.json.

From the issue's definitions, with the draws the run saved (`tracka_null_sets_<i>`, `trackb_signs_<i>`):
Similarity  cos(mean_p act(a), mean_p act(b)) for every pair of conditions; null for a zero mean vector.
Track A     Δ̄ = mean_p resid(a) − resid(b); d_i = row i of W_dec = decoder.weight.T; T = mean_i |<Δ̄, d_i/‖d_i‖>|;
            the null sets are checked to be drawn without replacement from the live latents not chosen;
            p = (1 + #{T_null ≥ T}) / (1 + N)  (tracks_reference.track_a).
Track B     D_pj = act_pj(a) − act_pj(b), t, d_z, per-feature and max-T p, degenerate and inactive latents, the seed's
            percentile rule (tracks_reference.track_b); counts at α, the top latents by |d_z| (ties: lower index).
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tracks_reference import strict_json, track_a, track_b  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
FOLDER = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "apps/readouts/test/fixtures/reference-run"
DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


def read_safetensors(file):
    raw = file.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, metadata


def similarity(acts):  # acts [C, P, dSae]
    means = acts.mean(axis=1)
    norms = np.linalg.norm(means, axis=1)
    return [[None if na == 0 or nb == 0 else float(a @ b / (na * nb)) for b, nb in zip(means, norms)]
            for a, na in zip(means, norms)]


def check_null_sets(sets, chosen, live):
    for s in sets:
        assert len(set(s.tolist())) == len(s), f"a null set repeats a latent: {s}"
        assert not set(s.tolist()) & set(chosen), f"a null set holds a chosen latent: {s}"
        assert live[s].all(), f"a null set holds a dead latent: {s}"


def track_a_pairs(tensors, labels, W, settings):
    cfg = settings["trackA"]
    chosen = cfg["latents"][str(settings["layer"])]
    resid = tensors["resid"].astype(np.float64)  # [C, P, d]
    live = np.linalg.norm(W, axis=1) > 0
    out = []
    for i, (a, b) in enumerate(cfg["pairs"]):
        delta = (resid[labels.index(a)] - resid[labels.index(b)]).mean(axis=0)
        sets = tensors[f"tracka_null_sets_{i}"]
        assert sets.shape == (cfg["nNull"], len(chosen)), sets.shape
        check_null_sets(sets, chosen, live)
        r = track_a({"meanDifference": delta, "decoder": W, "chosen": chosen, "nullSets": sets})
        out.append({
            "pair": [a, b],
            "chosen": chosen,
            "statistic": r["statistic"],
            "nullMean": r["nullMean"],
            "nNull": len(sets),
            "pValue": r["pValue"],
            "projections": [{"latent": j, "projection": v} for j, v in zip(chosen, r["projections"])],
            "nPositive": r["nPositive"],
            "nNegative": r["nNegative"],
            "meanDifferenceNorm": float(np.linalg.norm(delta)),
            "nDeadSkipped": int((~live).sum()),  # every dead latent is skipped once, if drawn; the toy has none
        })
    return out


def track_b_pairs(tensors, labels, settings):
    cfg = settings["trackB"]
    acts = tensors["acts"].astype(np.float64)  # [C, P, dSae]
    out = []
    for i, (a, b) in enumerate(cfg["pairs"]):
        signs = tensors[f"trackb_signs_{i}"]
        assert signs.shape == (cfg["nPermutations"], acts.shape[1]) and np.all(np.abs(signs) == 1), signs.shape
        inp = {"a": acts[labels.index(a)], "b": acts[labels.index(b)], "signs": signs, "alpha": cfg["alpha"],
               "percentiles": [99.9]}
        r = track_b(inp)
        dz = np.array(r["dz"])
        tested = np.flatnonzero(~np.isnan(dz))
        order = sorted(tested, key=lambda j: (-abs(dz[j]), j))[: cfg["top"]]
        counts = {
            "familywise": len(r["passFamilywise"]),
            "perFeature": len(r["passPerFeature"]),
            "degenerate": len(r["degenerate"]),
            "inactive": r["nInactive"],
            "tested": r["nActive"],
        }
        if cfg["rule"] == "seed-percentile":
            counts["seedRule"] = len(r["seedRule"][0]["pass"])
        out.append({
            "pair": [a, b],
            "counts": counts,
            "allDegenerate": r["nActive"] == 0,
            "top": [{k: (int(j) if k == "latent" else r[k][j]) for k in
                     ("latent", "dz", "t", "meanDifference", "pFamilywise", "pPerFeature")} for j in order],
        })
    return out


def differences(expected, actual, where=""):
    """Yield (where, |difference| relative to max(1, |expected|)) for numbers; raise on a structural mismatch."""
    if isinstance(expected, dict):
        for k, v in expected.items():
            yield from differences(v, actual[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert len(expected) == len(actual), f"{where}: length {len(actual)}, expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from differences(e, a, f"{where}[{i}]")
    elif isinstance(expected, (bool, str)) or expected is None:
        assert expected == actual, f"{where}: {actual!r}, expected {expected!r}"
    else:
        yield where, abs(expected - actual) / max(1.0, abs(expected))


def main():
    settings = json.loads((FOLDER / "fixture.json").read_text())
    tensors, metadata = read_safetensors(FOLDER / f"layer_{settings['layer']}.safetensors")
    labels = json.loads(metadata["conditions"])
    W = np.load(FOLDER / "decoder.npy").astype(np.float64).T  # decoder.weight [d, d_sae] → W_dec [d_sae, d]
    assert W.shape[1] == tensors["resid"].shape[2], f"decoder {W.shape} vs resid {tensors['resid'].shape}"
    expected = {
        "layer": settings["layer"],
        "similarity": similarity(tensors["acts"].astype(np.float64)),
        "trackA": track_a_pairs(tensors, labels, W, settings),
        "trackB": track_b_pairs(tensors, labels, settings),
    }
    expected = strict_json(json.loads(json.dumps(expected, default=float)))
    (FOLDER / "expected.json").write_text(json.dumps(expected, indent=1, allow_nan=False) + "\n")
    results = json.loads((FOLDER / "results.json").read_text())
    layer = next(l for l in results["layers"] if l["layer"] == settings["layer"])
    actual = {"layer": layer["layer"], "similarity": layer["similarity"]["matrix"], "trackA": layer["trackA"],
              "trackB": layer["trackB"]}
    worst = max(differences(expected, actual), key=lambda d: d[1])
    print(f"wrote {FOLDER / 'expected.json'}; largest difference from results.json: {worst[1]:.3g} at {worst[0]}"
          " (relative where |value| > 1)")
    sys.exit(0 if worst[1] <= 1e-9 else 1)


if __name__ == "__main__":
    main()
