/**
 * Gemma's RoPE settings from an HF config, in either layout:
 * - transformers 4.x: `rope_theta` (+ Gemma 3: `rope_local_base_freq` for sliding layers, `rope_scaling` for global
 *   ones: only {rope_type: "linear", factor} or "default");
 * - the newer `rope_parameters` (one {rope_type, rope_theta, factor?} for every layer, or one per layer type under
 *   "full_attention" / "sliding_attention"), read as I understand that layout — anything else in it is refused.
 * A RoPE type other than default/linear is refused naming the field: it must never be ignored silently.
 */
import { ConfigError } from "../../errors.ts";
import { isRecord, positiveNumber } from "../decoder-config-fields.ts";

export interface GemmaRope {
  readonly ropeTheta: number;
  readonly ropeLocalTheta: number;
  readonly ropeLinearFactor: number | null;
}

export interface GemmaRopeDefaults {
  readonly ropeTheta: number;
  /** Gemma 3: sliding layers have their own base (default 10000) and global ones may be scaled. */
  readonly localRope: boolean;
  readonly hfArchitecture: string;
}

function refuse(file: string, field: string, got: unknown, why: string): never {
  throw new ConfigError("UNSUPPORTED_FEATURE", `${file}: ${field} ${JSON.stringify(got)} — ${why}`, {
    file,
    field,
    got,
  });
}

/** One RoPE spec ({rope_type | type, factor?}) → the linear factor, null for plain RoPE. */
function factorOf(spec: unknown, field: string, file: string, scalable: boolean, arch: string): number | null {
  if (spec === undefined || spec === null) return null;
  if (!isRecord(spec)) refuse(file, field, spec, "expected an object");
  const type = spec.rope_type ?? spec.type ?? "default";
  if (type === "default") return null;
  if (!scalable) refuse(file, field, spec, `${arch} uses plain RoPE here`);
  if (type !== "linear") refuse(file, field, spec, "only linear RoPE scaling is supported for Gemma");
  return positiveNumber(spec.factor, `${field}.factor`, file);
}

/** The RoPE bases and linear factor of a Gemma config.json. */
export function readGemmaRope(json: Readonly<Record<string, unknown>>, file: string, d: GemmaRopeDefaults): GemmaRope {
  const theta = (value: unknown, field: string, fallback: number): number =>
    value === undefined ? fallback : positiveNumber(value, field, file);
  const params = json.rope_parameters;
  if (params !== undefined && params !== null) {
    if (!isRecord(params)) refuse(file, "rope_parameters", params, "expected an object");
    const perType = params.full_attention !== undefined || params.sliding_attention !== undefined;
    const full = perType ? params.full_attention : params;
    const local = perType ? params.sliding_attention : params;
    const fullField = perType ? "rope_parameters.full_attention" : "rope_parameters";
    const localField = perType ? "rope_parameters.sliding_attention" : "rope_parameters";
    const ropeTheta = theta(isRecord(full) ? full.rope_theta : undefined, `${fullField}.rope_theta`, d.ropeTheta);
    const localDefault = d.localRope ? 10000 : ropeTheta;
    const ropeLocalTheta = theta(
      isRecord(local) ? local.rope_theta : undefined,
      `${localField}.rope_theta`,
      localDefault,
    );
    if (!d.localRope && ropeLocalTheta !== ropeTheta)
      refuse(file, "rope_parameters", params, `${d.hfArchitecture} uses one RoPE base for every layer`);
    factorOf(local, localField, file, false, `${d.hfArchitecture}'s sliding layers`);
    return {
      ropeTheta,
      ropeLocalTheta,
      ropeLinearFactor: factorOf(full, fullField, file, d.localRope, d.hfArchitecture),
    };
  }
  const ropeTheta = theta(json.rope_theta, "rope_theta", d.ropeTheta);
  return {
    ropeTheta,
    ropeLocalTheta: d.localRope ? theta(json.rope_local_base_freq, "rope_local_base_freq", 10000) : ropeTheta,
    ropeLinearFactor: factorOf(json.rope_scaling, "rope_scaling", file, d.localRope, d.hfArchitecture),
  };
}
