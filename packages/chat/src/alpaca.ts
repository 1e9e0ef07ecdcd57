import { ChatError } from "./errors.ts";
import type { ChatMessage } from "./messages.ts";

/** One Alpaca-style row (tatsu-lab/alpaca). */
export interface AlpacaRow {
  instruction: string;
  input?: string | null;
  output?: string | null;
}

/** Where the instruction goes. */
export interface AlpacaOptions {
  /**
   * "user": one user turn, instruction then input (the common recipe). "system": the instruction is the system turn
   * and the input the user turn (seed 003's data preparation). Default "user".
   */
  instructionIn?: "user" | "system";
  /** Between instruction and input in a user turn. Default "\n\n". */
  separator?: string;
  /** Append the output as the assistant turn. Default true. */
  includeOutput?: boolean;
  /** With instructionIn "system" and an empty input: omit the user turn (default) or write it empty. */
  emptyInput?: "omit" | "empty-turn";
}

/** Turns an Alpaca row into messages. */
export function alpacaToMessages(row: AlpacaRow, options: AlpacaOptions = {}): ChatMessage[] {
  if (row === null || typeof row !== "object" || typeof row.instruction !== "string") {
    throw new ChatError("INVALID_MESSAGE", "an Alpaca row needs a string instruction", {
      field: "instruction",
      got: JSON.stringify(row)?.slice(0, 80),
    });
  }
  const input = row.input ?? "";
  const messages: ChatMessage[] = [];
  if ((options.instructionIn ?? "user") === "system") {
    messages.push({ role: "system", content: row.instruction });
    if (input !== "" || options.emptyInput === "empty-turn") messages.push({ role: "user", content: input });
  } else {
    const content = input === "" ? row.instruction : `${row.instruction}${options.separator ?? "\n\n"}${input}`;
    messages.push({ role: "user", content });
  }
  if ((options.includeOutput ?? true) && typeof row.output === "string") {
    messages.push({ role: "assistant", content: row.output });
  }
  return messages;
}
