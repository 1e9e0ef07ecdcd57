"""Writes the small input of the readouts statistics check (Track A, Track B, the seed's rule, Spearman).

Usage: /usr/bin/python3 tools/reference/readouts/make_tracks_input.py [out.json]
Default out: packages/stats/test/fixtures/readouts/tracks-input.json. numpy only; fixed seed, so the file is stable.
Built to be awkward: a dead decoder row, inactive latents (never firing, or firing equally in both conditions),
degenerate latents (the same difference in every prompt, once with 1e-9 jitter), a latent that fires in one prompt
only (|t| = 1 under every flip: exact ties), activations on a coarse grid (tied |t|), planted shifts, and tied
x / y values for Spearman.
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packages/stats/test/fixtures/readouts/tracks-input.json"

rng = np.random.default_rng(17)

# Track A: 50 latents in 12 dimensions; latent 8 is dead; the chosen latents lean towards the difference.
d_sae, d_model = 50, 12
decoder = rng.normal(size=(d_sae, d_model))
decoder[8] = 0.0
chosen = [3, 17, 29, 41]
mean_difference = rng.normal(size=d_model) + 0.8 * decoder[3] / np.linalg.norm(decoder[3])
pool = np.array([i for i in range(d_sae) if i not in chosen and i != 8])
n_null = 99
null_sets = np.stack([rng.choice(pool, size=len(chosen), replace=False) for _ in range(n_null)])

# Track B: 10 prompts × 30 latents.
P, L = 10, 30
a = np.maximum(rng.normal(0.2, 1.0, size=(P, L)), 0.0)
b = np.maximum(rng.normal(0.2, 1.0, size=(P, L)), 0.0)
a[:, 0:3] = 0.0  # never fire
b[:, 0:3] = 0.0
b[:, 3:5] = a[:, 3:5] = rng.uniform(0.5, 2.0, size=(P, 2))  # fire identically under both conditions
base = rng.uniform(1.0, 3.0, size=(P, 3))
b[:, 5:8] = base
a[:, 5:8] = base + np.array([0.75, -0.5, 0.25])  # the same difference in every prompt
a[:, 7] += 1e-9 * rng.normal(size=P)  # ... up to jitter far below 1e-6 of the scale
a[:, 8] = 0.0
b[:, 8] = 0.0
a[4, 8] = 1.25  # fires in one prompt only
a[:, 9:11] = np.round(a[:, 9:11] * 2) / 2  # a coarse grid: tied values and tied |t|
b[:, 9:11] = np.round(b[:, 9:11] * 2) / 2
a[:, 11:13] = b[:, 11:13] + rng.uniform(1.0, 1.5, size=(P, 2))  # planted shifts
a[:, 20:30] = np.where(rng.uniform(size=(P, 10)) < 0.6, 0.0, a[:, 20:30])  # sparser latents
n_flips = 99
signs = np.where(rng.uniform(size=(n_flips, P)) < 0.5, -1, 1)

# Behaviour link: 12 prompts, ties in both variables.
n = 12
x = np.round(rng.normal(size=n) * 2) / 2
y = np.round(0.6 * x + rng.normal(size=n), 1)
y[3] = y[5]
permutations = np.stack([rng.permutation(n) for _ in range(99)])
bootstrap = rng.integers(0, n, size=(99, n))

doc = {
    "trackA": {
        "meanDifference": mean_difference.tolist(),
        "decoder": decoder.tolist(),
        "chosen": chosen,
        "nullSets": null_sets.tolist(),
    },
    "trackB": {"a": a.tolist(), "b": b.tolist(), "signs": signs.tolist(), "alpha": 0.05, "percentiles": [99.9, 90]},
    "correlation": {
        "x": x.tolist(),
        "y": y.tolist(),
        "permutations": permutations.tolist(),
        "bootstrapIndices": bootstrap.tolist(),
        "confidence": 0.9,
    },
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(doc) + "\n")
print(f"wrote {OUT}")
