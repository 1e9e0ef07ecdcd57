import type { StageName } from "./diffing-types.ts";

/** POST /api/live body. Either plain text, or chat messages rendered with the model's chat template. */
export interface LiveRequest {
  run: string;
  stage: StageName;
  text?: string;
  /** Chat mode: a system-prompt condition and the user's message. */
  chat?: { system: string | null; user: string };
  /** Top latents per token (default 5, at most 32). */
  topK?: number;
}

export interface LiveToken {
  text: string;
  id: number;
  /** Whether the SAE was applied here (false where the run's mask excludes the token, e.g. special tokens). */
  scored: boolean;
  top: { latent: number; value: number }[];
}

export interface LiveResponse {
  run: string;
  stage: StageName;
  model: "base" | "chat";
  hook: string;
  tokens: LiveToken[];
  /** Wall time of tokenize + forward + encode, ms. */
  ms: number;
}
