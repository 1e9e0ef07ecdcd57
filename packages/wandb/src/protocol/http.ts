import { WandbError } from "../errors.ts";

/** Where and as whom to talk to W&B. */
export interface ServerTarget {
  /** API base URL without trailing slash, e.g. https://api.wandb.ai. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Abort a request after this many ms (it is then retried by the caller). */
  readonly requestTimeoutMs: number;
}

export const USER_AGENT = "difflens-wandb/0.1.0 (W&B protocol as spoken by @wandb/sdk 0.5.1)";

/** W&B authenticates API calls with HTTP basic auth, user "api", password the API key. */
export function authorizationHeader(apiKey: string): string {
  return `Basic ${Buffer.from(`api:${apiKey}`).toString("base64")}`;
}

/**
 * Send one request and classify the outcome: a WandbError with code HTTP_RETRYABLE for connection
 * errors, timeouts, 408, 429 and 5xx (the Python client retries those), HTTP_FATAL for other 4xx.
 */
export async function request(
  target: ServerTarget,
  method: "POST" | "PUT",
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      body,
      headers: { "User-Agent": USER_AGENT, ...headers },
      signal: AbortSignal.timeout(target.requestTimeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${target.requestTimeoutMs} ms`
        : (cause ?? (error as Error).message);
    throw new WandbError("HTTP_RETRYABLE", `${method} ${url} failed: ${reason}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new WandbError("HTTP_RETRYABLE", `${method} ${url}: response cut off: ${(error as Error).message}`);
  }
  if (response.ok) return text;
  const status = response.status;
  if (status === 408 || status === 429 || status >= 500) {
    throw new WandbError("HTTP_RETRYABLE", `${method} ${url} answered ${status}`, { got: text.slice(0, 200) });
  }
  throw new WandbError("HTTP_FATAL", `${method} ${url} answered ${status}`, {
    got: text.slice(0, 200),
    ...(status === 401 || status === 403
      ? { fix: "check the API key: set WANDB_API_KEY to the key from https://wandb.ai/authorize" }
      : {}),
  });
}
