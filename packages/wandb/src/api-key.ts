import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The API key from the option, $WANDB_API_KEY, or the ~/.netrc entry `wandb login` writes for the API host. */
export function findApiKey(
  explicit: string | null,
  baseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (explicit !== null && explicit !== "") return explicit;
  const fromEnv = env["WANDB_API_KEY"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return netrcPassword(new URL(baseUrl).hostname, env);
}

function netrcPassword(host: string, env: NodeJS.ProcessEnv): string | null {
  const file = env["NETRC"] ?? join(env["HOME"] ?? homedir(), ".netrc");
  if (!existsSync(file)) return null;
  const tokens = readFileSync(file, "utf8")
    .split(/\s+/)
    .filter((t) => t.length > 0);
  let inHost = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === "machine") inHost = tokens[i + 1] === host;
    else if (token === "default") inHost = true;
    else if (token === "password" && inHost) return tokens[i + 1] ?? null;
  }
  return null;
}

export const API_KEY_HELP =
  "set WANDB_API_KEY (copy the key from https://wandb.ai/authorize), or run `wandb login` once (writes ~/.netrc), " +
  'or pass apiKey to init(); to keep training without W&B pass mode: "offline" (sync later) or onMissingApiKey: "offline"';

/** Browser URL of a run: the app host is the API host without the `api.` prefix. */
export function runUrl(
  baseUrl: string,
  entity: string,
  project: string,
  id: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const app = env["WANDB_APP_URL"] ?? baseUrl.replace("//api.wandb", "//wandb");
  return `${app.replace(/\/$/, "")}/${entity}/${project}/runs/${id}`;
}
