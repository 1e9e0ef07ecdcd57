#!/usr/bin/python3
"""Reference values for @difflens/stats from Debian's numpy + scipy (run with /usr/bin/python3).

Writes packages/stats/test/fixtures/scipy-reference.json. Every number comes from numpy/scipy calls (or, where
scipy 1.10 has no function, from a short numpy transcription of the documented definition, marked "numpy-ref").
Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity".
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st
from scipy.stats._resampling import _bca_interval  # private in 1.10: lets us check BCa on a fixed distribution

warnings.simplefilter("ignore")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "packages", "stats", "test", "fixtures", "scipy-reference.json")
rng = np.random.default_rng(20261122)
ALTS = ["two-sided", "less", "greater"]


def f(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def fl(a):
    return [f(v) for v in np.asarray(a, dtype=float).ravel()]


# ---------------------------------------------------------------- descriptives
QMETHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf", "hazen",
            "weibull", "linear", "median_unbiased", "normal_unbiased", "lower", "higher", "midpoint", "nearest"]
QS = [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, 0.999, 1]
descriptives = []
samples = [rng.normal(size=1), rng.normal(size=2), rng.normal(3, 2, size=5), rng.integers(0, 4, size=17).astype(float),
           rng.exponential(size=100), 1e8 + rng.normal(size=30), rng.integers(0, 3, size=10).astype(float)]
for x in samples:
    case = {"x": fl(x), "mean": f(np.mean(x)),
            "quantiles": {m: fl(np.quantile(x, QS, method=m)) for m in QMETHODS}}
    if len(x) > 1:
        case.update({"var1": f(np.var(x, ddof=1)), "var0": f(np.var(x, ddof=0)), "sem": f(st.sem(x))})
    descriptives.append(case)

rows = rng.normal(size=(5, 7))
rows[3] = -rows[1] * 2.5
cosine = {"rows": [fl(r) for r in rows],
          "matrix": [fl(r) for r in (rows @ rows.T) / np.outer(np.linalg.norm(rows, axis=1), np.linalg.norm(rows, axis=1))]}

# ---------------------------------------------------------------- special functions
special = {"t": [], "tppf": [], "norm": [], "normppf": [], "betainc": [], "gammaln": [], "binom": []}
for df in [1, 1.5, 2, 3.7, 10, 29, 100, 1234.5, 1e5, 3e6]:
    for t in [-40, -5, -2.5, -1, -0.1, 0, 1e-8, 0.3, 1.96, 3, 10, 1e3]:
        special["t"].append({"t": t, "df": df, "cdf": f(st.t.cdf(t, df)), "sf": f(st.t.sf(t, df)), "pdf": f(st.t.pdf(t, df))})
    for p in [1e-10, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.9999]:
        special["tppf"].append({"p": p, "df": df, "ppf": f(st.t.ppf(p, df))})
for z in [-38, -10, -5, -1.5, -0.3, 0, 1e-9, 0.7, 1.96, 4, 8.5, 20]:
    special["norm"].append({"z": z, "cdf": f(st.norm.cdf(z)), "sf": f(st.norm.sf(z))})
for p in [1e-300, 1e-20, 1e-5, 0.02, 0.02425, 0.1, 0.5, 0.6, 0.97575, 0.99, 1 - 1e-12]:
    special["normppf"].append({"p": p, "ppf": f(st.norm.ppf(p))})
for a, b in [(0.5, 0.5), (1, 1), (2.5, 0.5), (0.5, 40), (10, 20), (50, 0.5), (200, 300), (1e4, 0.5), (5e5, 0.5), (3, 1e5)]:
    for x in [1e-6, 0.01, 0.2, 0.5, 0.7, 0.99, 0.999999]:
        special["betainc"].append({"a": a, "b": b, "x": x, "value": f(sp.betainc(a, b, x)), "complement": f(st.beta.sf(x, a, b))})
for x in [1e-8, 0.1, 0.5, 1, 1.5, 2, 3.3, 9.99, 10, 25.5, 171.3, 1e4, 1e7]:
    special["gammaln"].append({"x": x, "value": f(sp.gammaln(x))})
for n, p in [(1, 0.5), (10, 0.5), (25, 0.3), (100, 0.01), (1000, 0.5), (12345, 0.77), (10**6, 0.5)]:
    ks = sorted(set([0, 1, n // 3, int(n * p), n - 1, n] + list(rng.integers(0, n + 1, size=3))))
    for k in ks:
        special["binom"].append({"k": int(k), "n": n, "p": p, "pmf": f(st.binom.pmf(k, n, p)), "cdf": f(st.binom.cdf(k, n, p)), "sf": f(st.binom.sf(k, n, p))})

# High-precision truths (mpmath, 30 digits) at points where scipy 1.10 itself is less accurate than 1e-12:
# stdtrit (t.ppf) with non-integer df, betaln/betainc for one huge parameter, binomial CDF at n = 1e6.
import mpmath
mpmath.mp.dps = 60
truth = {"t": [], "tppf": [], "betainc": [], "binom_cdf": []}
def mp_ibeta(a, b, x):
    # Expand on the side where the hypergeometric series converges fast.
    a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
    if x < 0.5:
        return mpmath.betainc(a, b, 0, x, regularized=True)
    return 1 - mpmath.betainc(b, a, 0, 1 - x, regularized=True)
def mp_tcdf(t, df):
    t, df = mpmath.mpf(t), mpmath.mpf(df)
    tail = mp_ibeta(df / 2, 0.5, df / (df + t ** 2)) / 2
    return 1 - tail if t > 0 else tail
for t, df in [(1.96, 1e5), (-5, 3e6), (-5, 1.5), (-2.5, 3.7), (1.96, 29), (-40, 10), (3, 1234.5), (-5, 1e5), (0.3, 1e5), (-1, 2)]:
    pdf = mpmath.gamma((mpmath.mpf(df) + 1) / 2) / (mpmath.sqrt(df * mpmath.pi) * mpmath.gamma(mpmath.mpf(df) / 2)) * (1 + mpmath.mpf(t) ** 2 / df) ** (-(mpmath.mpf(df) + 1) / 2)
    truth["t"].append({"t": t, "df": df, "cdf": float(mp_tcdf(t, df)), "pdf": float(pdf)})
for p, df in [(0.025, 1.5), (0.001, 3.7), (0.975, 2), (1e-10, 10), (0.3, 29)]:
    root = mpmath.findroot(lambda t: mp_tcdf(t, df) - p, float(st.t.ppf(p, df)))
    truth["tppf"].append({"p": p, "df": df, "ppf": float(root)})
for a, b, x in [(5e5, 0.5, 0.999999), (1e4, 0.5, 0.99), (3, 1e5, 1e-6), (0.5, 40, 0.01), (2.5, 0.5, 0.7)]:
    truth["betainc"].append({"a": a, "b": b, "x": x, "value": float(mp_ibeta(a, b, x))})
for n in [10**6, 5000, 40]:
    pm = mpmath.binomial(n, n // 2) / mpmath.mpf(2) ** n
    truth["binom_cdf"].append({"k": n // 2, "n": n, "p": 0.5, "cdf": float(0.5 + pm / 2)})  # symmetry: P(X ≤ n/2) = ½ + ½·pmf(n/2)

# ---------------------------------------------------------------- t-tests and effect sizes
def hedges_j(df):
    return math.exp(sp.gammaln(df / 2) - 0.5 * math.log(df / 2) - sp.gammaln((df - 1) / 2))


ttests = []
for nx, ny in [(2, 2), (3, 5), (10, 7), (50, 60), (200, 150), (8, 8), (30, 30)]:
    x = rng.normal(0.3, 1.0, size=nx)
    y = rng.normal(0.0, 2.0, size=ny)
    case = {"x": fl(x), "y": fl(y), "welch": {}, "paired": {}, "one": {}}
    for alt in ALTS:
        r = st.ttest_ind(x, y, equal_var=False, alternative=alt)
        vx, vy = np.var(x, ddof=1) / nx, np.var(y, ddof=1) / ny
        df = (vx + vy) ** 2 / (vx ** 2 / (nx - 1) + vy ** 2 / (ny - 1))
        se = math.sqrt(vx + vy)
        est = np.mean(x) - np.mean(y)
        if alt == "two-sided":
            q = st.t.ppf(0.975, df); ci = (est - q * se, est + q * se)
        elif alt == "less":
            ci = (-math.inf, est + st.t.ppf(0.95, df) * se)
        else:
            ci = (est - st.t.ppf(0.95, df) * se, math.inf)
        case["welch"][alt] = {"statistic": f(r.statistic), "p": f(r.pvalue), "df": f(df), "ci": fl(ci)}
        if nx == ny:
            r = st.ttest_rel(x, y, alternative=alt)
            ci = r.confidence_interval(0.95)
            case["paired"][alt] = {"statistic": f(r.statistic), "p": f(r.pvalue), "df": f(r.df), "ci": [f(ci.low), f(ci.high)]}
        r = st.ttest_1samp(x, 0.1, alternative=alt)
        ci = r.confidence_interval(0.9)
        case["one"][alt] = {"statistic": f(r.statistic), "p": f(r.pvalue), "df": f(r.df), "ci90": [f(ci.low), f(ci.high)]}
    sp_ = math.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2))
    d = (np.mean(x) - np.mean(y)) / sp_
    case["effect"] = {"d": f(d), "g_exact": f(d * hedges_j(nx + ny - 2)), "g_approx": f(d * (1 - 3 / (4 * (nx + ny - 2) - 1)))}
    if nx == ny:
        dd = x - y
        case["effect"]["dz"] = f(np.mean(dd) / np.std(dd, ddof=1))
    ttests.append(case)

# ---------------------------------------------------------------- binomial and sign tests
binom = []
for k, n, p in [(0, 1, 0.5), (1, 1, 0.5), (3, 10, 0.5), (7, 10, 0.5), (5, 10, 0.5), (10, 28, 0.5), (18, 28, 0.5), (2, 20, 0.3),
                (9, 20, 0.3), (6, 20, 0.3), (0, 50, 0.01), (3, 50, 0.01), (60, 100, 0.5), (520, 1000, 0.5), (4000, 10000, 0.41),
                (41370, 100000, 0.41), (3, 7, 0.9), (7, 7, 0.9), (12, 40, 0.25), (1, 3, 1 / 3)]:
    for alt in ALTS:
        r = st.binomtest(k, n, p, alternative=alt)
        binom.append({"k": k, "n": n, "p": p, "alternative": alt, "pvalue": f(r.pvalue), "statistic": f(r.statistic)})

# ---------------------------------------------------------------- Wilcoxon signed-rank
wilcoxon = []
def wcase(d, label, **kw):
    for alt in ALTS:
        r = st.wilcoxon(d, alternative=alt, **kw)
        wilcoxon.append({"label": label, "d": fl(d), "alternative": alt, "options": kw,
                         "statistic": f(r.statistic), "p": f(r.pvalue), "z": f(getattr(r, "zstatistic", float("nan")))})

for n in [5, 6, 10, 20, 35, 50]:
    d = rng.normal(0.4, 1, size=n)
    wcase(d, f"exact n={n}", method="exact")
for n in [51, 80]:
    wcase(rng.normal(0.2, 1, size=n), f"approx n={n}", method="approx")
    wcase(rng.normal(0.2, 1, size=n), f"approx+cc n={n}", method="approx", correction=True)
tied = rng.integers(-4, 6, size=30).astype(float)
tied = tied[tied != 0]
wcase(tied, "ties no zeros (approx)", method="approx")
wcase(tied, "ties no zeros (approx, cc)", method="approx", correction=True)
withzeros = rng.integers(-3, 5, size=40).astype(float)
for zm in ["wilcox", "pratt", "zsplit"]:
    wcase(withzeros, f"zeros {zm}", method="approx", zero_method=zm)
    wcase(withzeros, f"zeros {zm} cc", method="approx", zero_method=zm, correction=True)

# ---------------------------------------------------------------- permutation tests (exact enumeration)
def mean_diff(x, y, axis):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def median_diff(x, y, axis):
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def paired_mean(x, y, axis):
    return np.mean(x - y, axis=axis)


permutation = []
for nx, ny, stat_name in [(5, 7, "mean"), (3, 9, "mean"), (6, 6, "median"), (4, 4, "mean"), (8, 7, "mean")]:
    x = rng.normal(0.8, 1, size=nx)
    y = rng.normal(0, 1, size=ny)
    if nx == 4:
        x = np.array([1.0, 2.0, 2.0, 3.0]); y = np.array([2.0, 2.0, 3.0, 3.0])  # ties in the null distribution
    stat = mean_diff if stat_name == "mean" else median_diff
    for alt in ALTS:
        r = st.permutation_test((x, y), stat, permutation_type="independent", vectorized=True, n_resamples=np.inf, alternative=alt)
        permutation.append({"kind": "independent", "statistic_name": stat_name, "x": fl(x), "y": fl(y), "alternative": alt,
                            "statistic": f(r.statistic), "p": f(r.pvalue), "n_null": int(r.null_distribution.size)})
for n in [6, 10]:
    x = rng.normal(0.5, 1, size=n)
    y = rng.normal(0, 1, size=n)
    for alt in ALTS:
        r = st.permutation_test((x, y), paired_mean, permutation_type="samples", vectorized=True, n_resamples=np.inf, alternative=alt)
        permutation.append({"kind": "paired", "statistic_name": "mean", "x": fl(x), "y": fl(y), "alternative": alt,
                            "statistic": f(r.statistic), "p": f(r.pvalue), "n_null": int(r.null_distribution.size)})
# Larger cases: scipy's exact p, which our Monte Carlo p must approach within its error.
mc_permutation = []
for nx, ny, shift in [(10, 11, 0.6), (9, 12, 0.1)]:
    x = rng.normal(shift, 1, size=nx)
    y = rng.normal(0, 1, size=ny)
    r = st.permutation_test((x, y), mean_diff, permutation_type="independent", vectorized=True, n_resamples=np.inf, alternative="two-sided", batch=20000)
    mc_permutation.append({"kind": "independent", "x": fl(x), "y": fl(y), "p_exact": f(r.pvalue), "n_null": int(r.null_distribution.size)})
x = rng.normal(0.3, 1, size=16)
r = st.permutation_test((x, np.zeros(16)), paired_mean, permutation_type="samples", vectorized=True, n_resamples=np.inf, alternative="two-sided", batch=20000)
mc_permutation.append({"kind": "paired", "x": fl(x), "y": fl(np.zeros(16)), "p_exact": f(r.pvalue), "n_null": int(r.null_distribution.size)})

# ---------------------------------------------------------------- bootstrap
bx = rng.lognormal(0, 0.8, size=30)
by = rng.normal(0.5, 1, size=25)
bootstrap = {"x": fl(bx), "y": fl(by), "cases": []}
for name, data, stat in [("mean", (bx,), lambda a, axis: np.mean(a, axis=axis)),
                         ("mean-diff", (bx, by), lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis))]:
    for method in ["percentile", "BCa"]:
        lows, highs = [], []
        for seed in range(20):
            r = st.bootstrap(data, stat, method=method, n_resamples=9999, random_state=np.random.default_rng(seed), vectorized=True)
            lows.append(r.confidence_interval.low); highs.append(r.confidence_interval.high)
        bootstrap["cases"].append({"statistic": name, "method": method, "low_mean": f(np.mean(lows)), "high_mean": f(np.mean(highs)),
                                   "low_sd": f(np.std(lows, ddof=1)), "high_sd": f(np.std(highs, ddof=1))})
# BCa on a fixed bootstrap distribution: checks the formula itself to 1e-10.
theta_b = np.array([np.mean(rng.choice(bx, size=bx.size)) for _ in range(2000)])
alpha = 0.05
a1, a2, ahat = _bca_interval((bx,), lambda a, axis: np.mean(a, axis=axis), -1, alpha, theta_b[None, :], None)
bootstrap["bca_fixed"] = {"theta_b": fl(theta_b), "confidence_level": 0.9, "alpha1": f(np.squeeze(a1)), "alpha2": f(np.squeeze(a2)),
                          "a_hat": f(np.squeeze(ahat)), "low": f(np.percentile(theta_b, np.squeeze(a1) * 100)), "high": f(np.percentile(theta_b, np.squeeze(a2) * 100))}

# ---------------------------------------------------------------- multiple comparisons (numpy-ref: statsmodels definitions)
def p_adjust(p, method):
    p = np.asarray(p, float); m = p.size; o = np.argsort(p); ps = p[o]; i = np.arange(1, m + 1)
    if method == "bonferroni":
        a = np.minimum(1, ps * m)
    elif method == "holm":
        a = np.minimum(1, np.maximum.accumulate((m - i + 1) * ps))
    else:
        c = np.sum(1.0 / i) if method == "by" else 1.0
        a = np.minimum(1, np.minimum.accumulate((ps * m * c / i)[::-1])[::-1])
    out = np.empty(m); out[o] = a
    return out


padjust = []
for p in [rng.uniform(size=12) ** 3, np.array([0.01, 0.01, 0.03, 0.04, 0.2, 0.5, 0.9, 0.0001]), np.array([0.5]), np.array([0.0, 1.0, 0.3, 0.3])]:
    padjust.append({"p": fl(p), **{m: fl(p_adjust(p, m)) for m in ["bonferroni", "holm", "bh", "by"]}})

# ---------------------------------------------------------------- RNG: SplitMix64 seeding + xoshiro128** (numpy-ref)
M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


class Xoshiro128ss:
    def __init__(self, seed):
        s, w0 = splitmix64(seed & M64)
        s, w1 = splitmix64(s)
        self.s = [w0 & M32, w0 >> 32, w1 & M32, w1 >> 32]

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & M32
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
        return result

    def float64(self):
        a = self.next() >> 5; b = self.next() >> 6
        return (a * 67108864 + b) / 9007199254740992

    def int_below(self, bound):
        threshold = (1 << 32) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound


rng_cases = []
for seed in [0, 1, 42, 2**53 - 1, 2**64 - 1]:
    g = Xoshiro128ss(seed)
    state = list(g.s)
    u32 = [g.next() for _ in range(16)]
    floats = [g.float64() for _ in range(4)]
    ints = [g.int_below(b) for b in [1, 2, 3, 7, 10, 1000, 2**31 + 11, 2**32]]
    perm = list(range(10))
    for i in range(9, 0, -1):
        j = g.int_below(i + 1); perm[i], perm[j] = perm[j], perm[i]
    rng_cases.append({"seed": str(seed), "state": state, "u32": u32, "floats": floats, "ints": ints, "shuffle10": perm})

out = {"generated_by": "tools/reference/stats/make_fixtures.py", "python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
       "descriptives": descriptives, "cosine": cosine, "special": special, "truth": truth, "ttests": ttests, "binomtest": binom, "wilcoxon": wilcoxon,
       "permutation": permutation, "mc_permutation": mc_permutation, "bootstrap": bootstrap, "padjust": padjust, "rng": rng_cases}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
print(f"wrote {os.path.relpath(OUT)}: {sum(len(v) if isinstance(v, list) else 1 for v in out.values())} entries, scipy {scipy.__version__}")
