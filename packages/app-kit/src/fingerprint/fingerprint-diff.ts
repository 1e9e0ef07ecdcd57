/**
 * A fingerprint is plain JSON holding everything that determines a result (model bytes, data bytes, settings,
 * seed, the parent's fingerprint). Two of them are compared field by field, so a refusal can say what changed:
 * `model.toy.seed: 0 → 3`, `data.files["train.parquet"]: 3f2a81c04b9e… → 9b1c…`.
 */
import { createHash } from "node:crypto";

export interface FieldChange {
  /** Dotted path, `a.b[0]["x.y"]`. */
  readonly field: string;
  /** undefined: the field is absent there. */
  readonly recorded: unknown;
  readonly current: unknown;
}

/** sha256 of the canonical JSON (object keys sorted), so key order never changes a digest. */
export function fingerprintDigest(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** Every leaf that differs between a recorded fingerprint and the current one, in a stable order. */
export function diffFingerprints(recorded: unknown, current: unknown, field = ""): FieldChange[] {
  if (isRecord(recorded) && isRecord(current)) {
    const keys = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort();
    return keys.flatMap((k) => diffFingerprints(recorded[k], current[k], joinKey(field, k)));
  }
  if (Array.isArray(recorded) && Array.isArray(current) && recorded.length === current.length) {
    return recorded.flatMap((v, i) => diffFingerprints(v, current[i], `${field}[${i}]`));
  }
  return canonicalJson(recorded) === canonicalJson(current) ? [] : [{ field: field || "(whole)", recorded, current }];
}

/** `a: 1 → 2; b: x → (absent)`, at most `max` changes (then "… and N more"). */
export function formatFieldChanges(changes: readonly FieldChange[], max = 6): string {
  const shown = changes.slice(0, max).map((c) => `${c.field}: ${formatValue(c.recorded)} → ${formatValue(c.current)}`);
  if (changes.length > max) shown.push(`… and ${changes.length - max} more`);
  return shown.join("; ");
}

function formatValue(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (typeof v === "string") return /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 12)}…` : JSON.stringify(v);
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function joinKey(field: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${field}[${JSON.stringify(key)}]`;
  return field === "" ? key : `${field}.${key}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
