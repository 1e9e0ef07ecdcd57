import { describe, expect, it } from "vitest";
import {
  type Alternative,
  adjustPValues,
  binomialCdf,
  binomialPmf,
  binomialSf,
  binomialTest,
  cohensD,
  cosineSimilarityMatrix,
  hedgesG,
  logGamma,
  mean,
  normalCdf,
  normalQuantile,
  normalSf,
  oneSampleTTest,
  pairedDz,
  pairedTTest,
  populationVariance,
  QUANTILE_METHODS,
  type QuantileMethod,
  quantiles,
  regularizedBeta,
  sampleVariance,
  sem,
  signFlipPermutationTest,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTSf,
  twoSamplePermutationTest,
  welchTTest,
  wilcoxonSignedRank,
} from "../src/index.ts";
import { expectClose, loadReference } from "./helpers.ts";

const ref = loadReference();
const ALTS: Alternative[] = ["two-sided", "less", "greater"];

describe("descriptives vs numpy", () => {
  it("mean, variances, SEM, every quantile method", () => {
    for (const c of ref.descriptives) {
      const scale = Math.max(1, ...c.x.map(Math.abs));
      expectClose(mean(c.x), c.mean, { atol: 1e-15 * scale, rtol: 1e-15 }, "mean");
      if (c.x.length > 1) {
        expectClose(sampleVariance(c.x), c.var1, { rtol: 1e-9, atol: 1e-14 }, "var1");
        expectClose(populationVariance(c.x), c.var0, { rtol: 1e-9, atol: 1e-14 }, "var0");
        expectClose(sem(c.x), c.sem, { rtol: 1e-9, atol: 1e-14 }, "sem");
      }
      for (const method of QUANTILE_METHODS) {
        const got = quantiles(c.x, [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, 0.999, 1], {
          method: method as QuantileMethod,
        });
        got.forEach((v, i) =>
          expectClose(
            v,
            c.quantiles[method][i],
            { rtol: 1e-15, atol: 1e-15 * scale },
            `${method} n=${c.x.length} q#${i}`,
          ),
        );
      }
    }
  });

  it("cosine-similarity matrix of rows", () => {
    const got = cosineSimilarityMatrix(ref.cosine.rows);
    got.forEach((row, i) =>
      row.forEach((v, j) => expectClose(v, ref.cosine.matrix[i][j], { atol: 1e-14 }, `cos[${i}][${j}]`)),
    );
    expect(got[1]?.[3]).toBe(-1);
  });
});

describe("special functions vs scipy.special / scipy.stats", () => {
  it("Student t CDF and SF to 1e-12 relative, PDF to 1e-12 (1e-8 where scipy is off)", () => {
    for (const c of ref.special.t) {
      const label = `t=${c.t} df=${c.df}`;
      const rtol = 1e-12;
      expectClose(studentTCdf(c.t, c.df), c.cdf, { rtol, atol: 1e-15 }, `cdf ${label}`);
      expectClose(studentTSf(c.t, c.df), c.sf, { rtol, atol: 1e-15 }, `sf ${label}`);
      // scipy's t.pdf loses 3e-11 relative at df = 1e5 and 2e-9 at df = 3e6 (mpmath truths below), hence the bound.
      expectClose(studentTPdf(c.t, c.df), c.pdf, { rtol: c.df >= 1e5 ? 1e-8 : 1e-12, atol: 1e-300 }, `pdf ${label}`);
    }
  });
  it("t CDF/PDF/quantile, incomplete beta and binomial CDF against 60-digit mpmath truths to 1e-13 relative", () => {
    for (const c of ref.truth.t) {
      expectClose(studentTCdf(c.t, c.df), c.cdf, { rtol: 1e-13 }, `truth cdf t=${c.t} df=${c.df}`);
      expectClose(studentTPdf(c.t, c.df), c.pdf, { rtol: 1e-13 }, `truth pdf t=${c.t} df=${c.df}`);
    }
    for (const c of ref.truth.tppf)
      expectClose(studentTQuantile(c.p, c.df), c.ppf, { rtol: 1e-13 }, `truth tppf p=${c.p} df=${c.df}`);
    for (const c of ref.truth.betainc)
      expectClose(
        regularizedBeta(c.a, c.b, c.x).lower,
        c.value,
        { rtol: 1e-13, atol: 1e-300 },
        `truth I a=${c.a} b=${c.b} x=${c.x}`,
      );
    for (const c of ref.truth.binom_cdf)
      expectClose(binomialCdf(c.k, c.n, c.p), c.cdf, { rtol: 1e-12 }, `truth binom cdf n=${c.n}`);
  });
  it("Student t quantile", () => {
    // scipy 1.10's stdtrit is off by up to ~6e-10 relative for non-integer df (mpmath truths above pin ours to 1e-13).
    for (const c of ref.special.tppf)
      expectClose(studentTQuantile(c.p, c.df), c.ppf, { rtol: 1e-8, atol: 1e-12 }, `tppf p=${c.p} df=${c.df}`);
  });
  it("normal CDF, SF, quantile", () => {
    for (const c of ref.special.norm) {
      expectClose(normalCdf(c.z), c.cdf, { rtol: 1e-13, atol: 1e-300 }, `cdf z=${c.z}`);
      expectClose(normalSf(c.z), c.sf, { rtol: 1e-13, atol: 1e-300 }, `sf z=${c.z}`);
    }
    for (const c of ref.special.normppf)
      expectClose(normalQuantile(c.p), c.ppf, { rtol: 1e-13, atol: 1e-15 }, `ppf p=${c.p}`);
  });
  it("regularized incomplete beta and its complement", () => {
    for (const c of ref.special.betainc) {
      const r = regularizedBeta(c.a, c.b, c.x);
      // scipy's betainc is off by up to ~3e-11 relative when a or b ≥ 1e5 (mpmath truth above); elsewhere agreement is ~1e-14.
      expectClose(
        r.lower,
        c.value,
        { rtol: Math.max(c.a, c.b) >= 1e5 ? 1e-9 : 1e-12, atol: 1e-15 },
        `I a=${c.a} b=${c.b} x=${c.x}`,
      );
      expectClose(
        r.upper,
        c.complement,
        { rtol: Math.max(c.a, c.b) >= 1e5 ? 1e-9 : 1e-12, atol: 1e-15 },
        `1-I a=${c.a} b=${c.b} x=${c.x}`,
      );
    }
  });
  it("log-gamma", () => {
    for (const c of ref.special.gammaln)
      expectClose(logGamma(c.x), c.value, { rtol: 1e-14, atol: 1e-14 }, `lgamma ${c.x}`);
  });
  it("binomial pmf, cdf, sf", () => {
    for (const c of ref.special.binom) {
      const label = `k=${c.k} n=${c.n} p=${c.p}`;
      expectClose(binomialPmf(c.k, c.n, c.p), c.pmf, { rtol: 1e-11, atol: 1e-300 }, `pmf ${label}`);
      expectClose(binomialCdf(c.k, c.n, c.p), c.cdf, { rtol: 1e-11, atol: 1e-15 }, `cdf ${label}`);
      expectClose(binomialSf(c.k, c.n, c.p), c.sf, { rtol: 1e-11, atol: 1e-15 }, `sf ${label}`);
    }
  });
});

describe("t-tests and effect sizes vs scipy (1e-10 absolute)", () => {
  it("Welch, paired and one-sample t-tests with all alternatives and intervals", () => {
    for (const c of ref.ttests) {
      const tag = `nx=${c.x.length} ny=${c.y.length}`;
      for (const alt of ALTS) {
        const w = welchTTest(c.x, c.y, { alternative: alt });
        expectClose(w.statistic, c.welch[alt].statistic, { atol: 1e-10 }, `welch t ${tag} ${alt}`);
        expectClose(w.pValue, c.welch[alt].p, { atol: 1e-10 }, `welch p ${tag} ${alt}`);
        expectClose(w.df, c.welch[alt].df, { rtol: 1e-10 }, `welch df ${tag}`);
        w.confidenceInterval.forEach((v, i) =>
          expectClose(v, c.welch[alt].ci[i], { rtol: 1e-8 }, `welch ci ${tag} ${alt}`),
        );
        if (c.paired[alt]) {
          const p = pairedTTest(c.x, c.y, { alternative: alt });
          expectClose(p.statistic, c.paired[alt].statistic, { atol: 1e-10 }, `paired t ${tag} ${alt}`);
          expectClose(p.pValue, c.paired[alt].p, { atol: 1e-10 }, `paired p ${tag} ${alt}`);
          p.confidenceInterval.forEach((v, i) =>
            expectClose(v, c.paired[alt].ci[i], { rtol: 1e-8 }, `paired ci ${tag} ${alt}`),
          );
        }
        const o = oneSampleTTest(c.x, 0.1, { alternative: alt, confidenceLevel: 0.9 });
        expectClose(o.statistic, c.one[alt].statistic, { atol: 1e-10 }, `one t ${tag} ${alt}`);
        expectClose(o.pValue, c.one[alt].p, { atol: 1e-10 }, `one p ${tag} ${alt}`);
        o.confidenceInterval.forEach((v, i) =>
          expectClose(v, c.one[alt].ci90[i], { rtol: 1e-8 }, `one ci ${tag} ${alt}`),
        );
      }
      expectClose(cohensD(c.x, c.y).value, c.effect.d, { atol: 1e-12 }, `d ${tag}`);
      expectClose(hedgesG(c.x, c.y).value, c.effect.g_exact, { atol: 1e-12 }, `g exact ${tag}`);
      expectClose(
        hedgesG(c.x, c.y, { correction: "approximate" }).value,
        c.effect.g_approx,
        { atol: 1e-12 },
        `g approx ${tag}`,
      );
      if (c.effect.dz !== undefined) expectClose(pairedDz(c.x, c.y).value, c.effect.dz, { atol: 1e-12 }, `dz ${tag}`);
    }
  });
});

describe("binomial and Wilcoxon tests vs scipy (1e-10 absolute)", () => {
  it("binomtest, every alternative, n up to 1e5", () => {
    for (const c of ref.binomtest) {
      const r = binomialTest(c.k, c.n, c.p, { alternative: c.alternative });
      expectClose(r.pValue, c.pvalue, { atol: 1e-10 }, `binomtest k=${c.k} n=${c.n} p=${c.p} ${c.alternative}`);
      expectClose(r.statistic, c.statistic, { atol: 1e-15 }, "k/n");
    }
  });
  it("wilcoxon: exact, approx, ties, zeros (wilcox/pratt/zsplit), continuity correction", () => {
    for (const c of ref.wilcoxon) {
      const r = wilcoxonSignedRank(c.d, undefined, {
        alternative: c.alternative,
        method: c.options.method,
        correction: c.options.correction ?? false,
        zeroMethod: c.options.zero_method ?? "wilcox",
      });
      const tag = `${c.label} ${c.alternative}`;
      expect(r.method, tag).toBe(c.options.method);
      expectClose(r.statistic, c.statistic, { atol: 1e-10 }, `W ${tag}`);
      expectClose(r.pValue, c.p, { atol: 1e-10 }, `p ${tag}`);
      if (r.method === "approx") expectClose(r.zStatistic ?? NaN, c.z, { atol: 1e-10 }, `z ${tag}`);
      // "auto" agrees with scipy wherever scipy's auto is well defined (no ties): exact for n ≤ 50 without zeros.
      const auto = wilcoxonSignedRank(c.d, undefined, {
        alternative: c.alternative,
        correction: c.options.correction ?? false,
        zeroMethod: c.options.zero_method ?? "wilcox",
      });
      if (c.label.startsWith("exact") || c.label.startsWith("approx"))
        expectClose(auto.pValue, c.p, { atol: 1e-10 }, `auto ${tag}`);
    }
  });
});

describe("exact permutation tests vs scipy.stats.permutation_test (1e-10 absolute)", () => {
  it("independent (unequal sizes, mean and median statistics, ties) and paired sign flips", () => {
    const median = (v: Float64Array): number => {
      const s = Float64Array.from(v).sort();
      const h = (s.length - 1) / 2;
      return ((s[Math.floor(h)] as number) + (s[Math.ceil(h)] as number)) / 2;
    };
    for (const c of ref.permutation) {
      const tag = `${c.kind} ${c.statistic_name} nx=${c.x.length} ny=${c.y.length} ${c.alternative}`;
      const r =
        c.kind === "paired"
          ? signFlipPermutationTest(c.x, c.y, undefined, { alternative: c.alternative })
          : twoSamplePermutationTest(
              c.x,
              c.y,
              c.statistic_name === "median" ? (a, b) => median(a) - median(b) : undefined,
              { alternative: c.alternative },
            );
      expect(r.exact, tag).toBe(true);
      expect(r.nResamples, tag).toBe(c.n_null);
      expectClose(r.statistic, c.statistic, { atol: 1e-12 }, `stat ${tag}`);
      expectClose(r.pValue, c.p, { atol: 1e-10 }, `p ${tag}`);
    }
  });
});

describe("multiple comparisons vs statsmodels definitions", () => {
  it("bonferroni, holm, bh, by", () => {
    for (const c of ref.padjust) {
      for (const method of ["bonferroni", "holm", "bh", "by"] as const) {
        adjustPValues(c.p, { method }).forEach((v, i) =>
          expectClose(v, c[method][i], { atol: 1e-15 }, `${method}[${i}]`),
        );
      }
    }
  });
});
