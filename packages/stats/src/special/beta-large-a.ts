import { regularizedGamma, stirlingRemainder } from "./gamma.ts";

/** ζ(2k) for k ≥ 1: closed forms for small k, else a direct sum with its integral tail. */
function zetaEven(k: number): number {
  const pi2 = Math.PI * Math.PI;
  if (k === 1) return pi2 / 6;
  if (k === 2) return (pi2 * pi2) / 90;
  if (k === 3) return (pi2 * pi2 * pi2) / 945;
  let s = 0;
  for (let j = 1; j <= 40; j++) s += j ** (-2 * k);
  return s + 40.5 ** (1 - 2 * k) / (2 * k - 1);
}

const MAX_TERMS = 60;

/**
 * I_x(a, b) for large a and small b (b ≤ 1), where x is close to 1 and both continued-fraction orientations
 * lose digits or converge slowly (the Student t with large df). Asymptotic expansion in the spirit of
 * DiDonato & Morris (1992, BGRAT), derived here from s = e^{−v}:
 *   B(a,b)·I_x(a,b) = ∫_{−ln x}^∞ e^{−Tv} v^{b−1} g(v) dv,  T = a + (b−1)/2,  g(v) = (sinh(v/2)/(v/2))^{b−1} = Σ p_n v^{2n}
 * so I_x(a,b) = Γ(a+b)/(Γ(a)·T^b) · Σ_n p_n · Γ(b+2n)/Γ(b) · T^{−2n} · Q(b+2n, u),  u = −T·ln x.
 * ln g has the coefficients (b−1)(−1)^{k+1} ζ(2k) / (k (2π)^{2k}) of v^{2k}; p_n follow by series exponentiation.
 * lnX must be ln x computed accurately (e.g. log1p(−y)).
 */
export function regularizedBetaLargeA(a: number, b: number, lnX: number): number {
  const T = a + (b - 1) / 2;
  const u = -T * lnX;
  // ln[Γ(a+b)/Γ(a)] − b·ln T, with the big Stirling terms combined analytically.
  const logPrefactor =
    (a - 0.5) * Math.log1p(b / a) + b * Math.log((a + b) / T) - b + stirlingRemainder(a + b) - stirlingRemainder(a);
  const prefactor = Math.exp(logPrefactor);
  const twoPi2 = (2 * Math.PI) ** 2;
  const e: number[] = [0];
  for (let k = 1; k <= MAX_TERMS; k++) e.push(((b - 1) * (k % 2 === 1 ? 1 : -1) * zetaEven(k)) / (k * twoPi2 ** k));
  const p: number[] = [1];
  let sum = regularizedGamma(b, u).upper;
  // ratio = Γ(b+2n)/Γ(b) · T^{−2n}, built incrementally.
  let ratio = 1;
  let previousTerm = Infinity;
  for (let n = 1; n <= MAX_TERMS; n++) {
    let pn = 0;
    for (let k = 1; k <= n; k++) pn += k * (e[k] as number) * (p[n - k] as number);
    pn /= n;
    p.push(pn);
    ratio *= ((b + 2 * n - 2) * (b + 2 * n - 1)) / (T * T);
    const term = pn * ratio * regularizedGamma(b + 2 * n, u).upper;
    // Asymptotic series: stop at convergence or when terms start to grow.
    if (Math.abs(term) > Math.abs(previousTerm)) break;
    sum += term;
    previousTerm = term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return prefactor * sum;
}
