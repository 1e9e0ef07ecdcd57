/**
 * The steer run's inputs in tokens: each prompt rendered as a user turn under the condition (assistant header
 * appended), with where steering starts; the target tokens' ids.
 */
import { type ChatTemplate, findRegions, tokenizeChat } from "@difflens/chat";
import type { Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";
import { type Prompt, readPrompts } from "../sae-conditions/prompt-files.ts";
import type { SteerConfig } from "./steer-config.ts";
import type { PromptInput } from "./steer-metrics.ts";

/** The config's prompts: inline texts, or "builtin" / a JSONL file of {"id", "text"} lines (as sae-conditions reads them). */
export function steerPrompts(config: SteerConfig): Prompt[] {
  return typeof config.prompts === "string" ? readPrompts(config.prompts) : [...config.prompts];
}

/** Every prompt tokenized under the condition, with the first position steering acts on. */
export async function preparePrompts(
  config: SteerConfig,
  tokenizer: Tokenizer,
  template: ChatTemplate,
): Promise<PromptInput[]> {
  const out: PromptInput[] = [];
  for (const { id, text } of steerPrompts(config)) {
    const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: text }], {
      condition: config.condition,
      addGenerationPrompt: true,
    });
    const ids = Array.from(chat.ids);
    const pos = config.positions;
    let firstSteered = 0;
    if (pos === "generated") firstSteered = ids.length;
    else if (pos !== "all") {
      const { role, kind } = pos.fromRegion;
      const region = findRegions(chat, role === null ? { kind } : { role, kind })[0];
      if (region === undefined || region.positions.length === 0) {
        const what = role === null ? kind : `${role}:${kind}`;
        const message = `steer.positions: prompt "${id}" under ${config.conditionLabel} has no ${what} region`;
        throw new ReadoutsError("CONFIG_INVALID", message, { field: "steer.positions", got: what });
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
      throw new ReadoutsError("CONFIG_INVALID", message, { field: "steer.targets", got: token });
    }
    out.push({ token, id: ids[0]! });
  }
  return out;
}
