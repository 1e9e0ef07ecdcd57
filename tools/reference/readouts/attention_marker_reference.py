"""Independent float64 reference of attention-marker stage 2 and its gates (issue 18, seed 001), numpy only.

Reads apps/readouts/test/fixtures/attention-reference/ (written by make_attention_fixture.ts): the model folder's
weights, and input.json's sequences with their key groups (segmentations A and B) and strata positions, taken as given.
Runs each whole sequence through qwen2_ref.forward_one (float64, written from the architecture definition) and, per
layer, head and stratum, sums the softmax row of the readout position over the keys of each region group.

Then, over the positives E that have both a marker and a C1 position, per layer and segmentation:
    delta[e, layer, group] = mean_heads frac_marker[layer, :, group] - mean_heads frac_c1[layer, :, group]
    gate A: #{delta_system > 0} >= ceil(directionThreshold * E)
    gate B: mean(delta_system) - SEM > 0, SEM = sd(ddof=1) / sqrt(E)
    gate C: mean delta_system > mean delta_user and > mean delta_assistantPrefix
    gate D: A, B and C all hold on segmentation B
Writes reference.json beside input.json (fractions as [layers][heads][groups] per stratum and segmentation).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools/reference/qwen2"))
from qwen2_ref import forward_one  # noqa: E402
from safetensors_io import read  # noqa: E402

FIXTURE = ROOT / "apps/readouts/test/fixtures/attention-reference"
STRATA = ["marker", "c1", "c2", "c3", "c4"]


def load_model(folder):
    cfg = json.loads((folder / "config.json").read_text())
    weights = {name: stored.f64() for name, stored in read(folder / "model.safetensors").items()}
    return cfg, weights


def fractions(pattern, position, groups, n_groups):
    """pattern: [heads, seq, seq]; → [heads, groups]: the row of `position` summed over each group's keys."""
    row = pattern[:, position, : position + 1]  # causal: keys 0 … position
    out = np.zeros((pattern.shape[0], n_groups))
    for g in range(n_groups):
        out[:, g] = row[:, np.asarray(groups[: position + 1]) == g].sum(axis=1)
    return out


def read_example(cfg, weights, example, layers, n_groups):
    _, hooks = forward_one(cfg, weights, example["ids"], keep=lambda name: name.endswith("attn.hook_pattern"))
    out = {}
    for stratum in STRATA:
        position = example["positions"][stratum]
        if position is None:
            continue
        out[stratum] = {
            seg: np.stack([fractions(hooks[f"blocks.{L}.attn.hook_pattern"][0], position, example[f"groups{seg}"], n_groups) for L in layers])
            for seg in ("A", "B")
        }  # [layers, heads, groups]
    return out


def gates(delta, groups, threshold):
    """delta: [E, layers, groups] for one segmentation → per-layer gates A, B, C and the statistics behind them."""
    system, user, prefix = (groups.index(g) for g in ("system", "user", "assistantPrefix"))
    E = delta.shape[0]
    mean = delta.mean(axis=0)  # [layers, groups]
    sem = delta[:, :, system].std(axis=0, ddof=1) / math.sqrt(E)
    positive = (delta[:, :, system] > 0).sum(axis=0)
    return {
        "mean": mean.tolist(),
        "semSystem": sem.tolist(),
        "positiveSystem": positive.tolist(),
        "A": (positive >= math.ceil(threshold * E)).tolist(),
        "B": (mean[:, system] - sem > 0).tolist(),
        "C": ((mean[:, system] > mean[:, user]) & (mean[:, system] > mean[:, prefix])).tolist(),
    }


def main():
    inp = json.loads((FIXTURE / "input.json").read_text())
    cfg, weights = load_model(FIXTURE / "model")
    layers, groups = inp["layers"], inp["groups"]
    read_out = [read_example(cfg, weights, ex, layers, len(groups)) for ex in inp["examples"]]
    paired = [r for r in read_out if "marker" in r and "c1" in r]
    result = {"examples": [], "E": len(paired)}
    for ex, r in zip(inp["examples"], read_out):
        result["examples"].append({"trial": ex["trial"], "fractions": {s: {seg: v.tolist() for seg, v in segs.items()} for s, segs in r.items()}})
    for seg in ("A", "B"):
        delta = np.stack([r["marker"][seg].mean(axis=1) - r["c1"][seg].mean(axis=1) for r in paired])  # [E, L, G]
        result[f"deltaSystem{seg}"] = delta[:, :, groups.index("system")].tolist()
        result[f"gates{seg}"] = gates(delta, groups, inp["directionThreshold"])
    a, b = result["gatesA"], result["gatesB"]
    result["gateD"] = [bool(x and y and z) for x, y, z in zip(b["A"], b["B"], b["C"])]
    result["gatesA"]["D"] = result["gateD"]
    del result["gatesB"]["mean"]
    text = json.dumps(result, separators=(",", ":"))
    (FIXTURE / "reference.json").write_text(text + "\n")
    partition = max(abs(np.sum(v, axis=-1) - 1).max() for r in read_out for segs in r.values() for v in segs.values())
    print(f"wrote reference.json: {len(read_out)} sequences, E = {len(paired)}, max |sum - 1| = {partition:.2e}; "
          f"gates A {a['A']} B {a['B']} C {a['C']} D {result['gateD']}")


if __name__ == "__main__":
    main()
