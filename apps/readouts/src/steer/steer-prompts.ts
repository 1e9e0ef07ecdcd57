/**
 * The steer run's inputs in tokens: each prompt rendered as a user turn under the condition (assistant header
 * appended), with where steering starts; the target tokens' ids.
 */
import * as fs from "node:fs";
import { type ChatTemplate, findRegions, tokenizeChat } from "@difflens/chat";
import type { Tokenizer } from "@difflens/tokenizer";
import type { SteerConfig } from "./steer-config.ts";
import { SteerError } from "./steer-error.ts";
import type { PromptInput } from "./steer-metrics.ts";

/** The config's prompts: inline texts, or a JSONL file of {"id", "text"} lines. */
export function readPrompts(config: SteerConfig): Array<{ id: string; text: string }> {
  if (typeof config.prompts !== "string") return [...config.prompts];
  const file = config.prompts;
  if (!fs.existsSync(file)) {
    throw new SteerError("CONFIG_INVALID", `steer.prompts: ${file} does not exist`, { file, field: "steer.prompts" });
  }
  const out: Array<{ id: string; text: string }> = [];
  const seen = new Set<string>();
  for (const [i, line] of fs.readFileSync(file, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    const bad = (why: string): never => {
      const message = `${file}:${i + 1}: ${why}; expected {"id": "<unique string>", "text": "<prompt>"}`;
      throw new SteerError("CONFIG_INVALID", message, { file, line: i + 1 });
    };
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      bad("not JSON");
    }
    const { id, text } = (row ?? {}) as { id?: unknown; text?: unknown };
    if (typeof id !== "string" || id === "" || typeof text !== "string" || text === "") bad("missing id or text");
    if (seen.has(id as string)) bad(`duplicate id "${id}"`);
    seen.add(id as string);
    out.push({ id: id as string, text: text as string });
  }
  if (out.length === 0) throw new SteerError("CONFIG_INVALID", `${file}: no prompts`, { file });
  return out;
}

/** Every prompt tokenized under the condition, with the first position steering acts on. */
export async function preparePrompts(
  config: SteerConfig,
  tokenizer: Tokenizer,
  template: ChatTemplate,
): Promise<PromptInput[]> {
  const out: PromptInput[] = [];
  for (const { id, text } of readPrompts(config)) {
    const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: text }], {
      condition: config.condition,
      addGenerationPrompt: true,
    });
    const ids = Array.from(chat.ids);
    const pos = config.positions;
    let firstSteered = 0;
    if (pos === "generated") firstSteered = ids.length;
    else if (pos !== "all") {
      const region = findRegions(chat, { role: pos.fromRegion.role, kind: pos.fromRegion.kind })[0];
      if (region === undefined || region.positions.length === 0) {
        const what = `${pos.fromRegion.role}:${pos.fromRegion.kind}`;
        const message = `steer.positions: prompt "${id}" under ${config.conditionLabel} has no ${what} region`;
        throw new SteerError("CONFIG_INVALID", message, { field: "steer.positions", got: what });
      }
      firstSteered = region.positions[0]!;
    }
    const positions =
      pos === "all"
        ? ("all" as const)
        : pos === "generated"
          ? { from: "generated" as const, promptLengths: [ids.length] }
          : { fromPosition: firstSteered };
    out.push({ id, text, ids, firstSteered, positions });
  }
  return out;
}

/** Target strings as token ids: each must be exactly one token. */
export async function resolveTargets(
  targets: readonly string[],
  tokenizer: Tokenizer,
): Promise<Array<{ token: string; id: number }>> {
  const out: Array<{ token: string; id: number }> = [];
  for (const token of targets) {
    const { ids } = await tokenizer.encode(token, { addSpecialTokens: false });
    if (ids.length !== 1) {
      const message = `steer.targets: ${JSON.stringify(token)} is ${ids.length} tokens; each target must be one token`;
      throw new SteerError("CONFIG_INVALID", message, { field: "steer.targets", got: token });
    }
    out.push({ token, id: ids[0]! });
  }
  return out;
}
