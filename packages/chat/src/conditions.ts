import { ChatError } from "./errors.ts";

/**
 * How the system turn of a conversation is written — seed 000's conditions C1–C4.
 * - `model-default`: no system message is passed; whatever the template writes by itself (Qwen's default turn).
 * - `custom`: a system message with this text.
 * - `empty`: a system message with empty content (the turn exists, its content is "").
 * - `no-system-turn`: no system block at all. Qwen's templates cannot express it (they insert their default),
 *   so it is the `model-default` rendering with the template's inserted system turn cut out — the same ChatML
 *   pieces, nothing handwritten.
 */
export type SystemCondition =
  | { readonly kind: "model-default" }
  | { readonly kind: "custom"; readonly text: string }
  | { readonly kind: "empty" }
  | { readonly kind: "no-system-turn" };

export type SystemConditionKind = SystemCondition["kind"];

/** Constructors for the four conditions. */
export const SystemConditions = Object.freeze({
  modelDefault: (): SystemCondition => Object.freeze({ kind: "model-default" }),
  custom: (text: string): SystemCondition => Object.freeze({ kind: "custom", text }),
  empty: (): SystemCondition => Object.freeze({ kind: "empty" }),
  noSystemTurn: (): SystemCondition => Object.freeze({ kind: "no-system-turn" }),
});

/** A short stable label: `model-default`, `custom:<text>`, `empty`, `no-system-turn`. */
export function conditionLabel(condition: SystemCondition): string {
  return condition.kind === "custom" ? `custom:${condition.text}` : condition.kind;
}

/** Parses a label (or an already-typed condition from a config file) into a condition. */
export function parseSystemCondition(input: unknown): SystemCondition {
  if (typeof input === "string") {
    if (input === "model-default") return SystemConditions.modelDefault();
    if (input === "empty") return SystemConditions.empty();
    if (input === "no-system-turn") return SystemConditions.noSystemTurn();
    if (input.startsWith("custom:")) return SystemConditions.custom(input.slice("custom:".length));
  } else if (input !== null && typeof input === "object") {
    const o = input as Record<string, unknown>;
    const keys = Object.keys(o).sort().join(",");
    if (o["kind"] === "custom" && typeof o["text"] === "string" && keys === "kind,text")
      return SystemConditions.custom(o["text"]);
    if (keys === "kind" && typeof o["kind"] === "string" && o["kind"] !== "custom")
      return parseSystemCondition(o["kind"]);
  }
  throw new ChatError("INVALID_CONDITION", "not a system-prompt condition", {
    expected: '"model-default" | "custom:<text>" | "empty" | "no-system-turn" | {kind, text?}',
    got: JSON.stringify(input),
  });
}
