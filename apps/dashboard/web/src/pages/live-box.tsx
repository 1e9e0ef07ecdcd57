import { useState } from "preact/hooks";
import { STAGES, type StageName } from "../../../src/api/diffing-types.ts";
import type { LiveRequest, LiveResponse } from "../../../src/api/live-types.ts";
import { ErrorPanels } from "../components/error-panels.tsx";
import { api } from "../data/api.ts";
import { type ApiError, asApiError } from "../data/api-error.ts";
import { dashboardMode } from "../data/mode.ts";
import { formatNumber, visibleToken } from "../format.ts";
import { href } from "../router.ts";

/** The conditions of @difflens/chat's parseSystemCondition; any other text is sent as the system prompt itself. */
const SYSTEM_CONDITIONS = ["model-default", "empty", "no-system-turn"];

/** Type a prompt (plain text, or a chat turn under a system-prompt condition) and see each token's top latents. */
export function LiveBox({ run, live }: { run: string; live: boolean }) {
  const [text, setText] = useState("");
  const [format, setFormat] = useState<"text" | "chat">("text");
  const [system, setSystem] = useState("model-default");
  const [stage, setStage] = useState<StageName>("MF");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<LiveResponse | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  if (!live) {
    return (
      <section class="card" aria-labelledby="live-heading">
        <h2 id="live-heading">Live</h2>
        <p class="muted">
          {dashboardMode() === "static"
            ? "Live mode needs the dashboard server: this is a static export."
            : "Live mode is off on this server (started with --no-live)."}
        </p>
      </section>
    );
  }

  const submit = async (event: Event) => {
    event.preventDefault();
    if (text.trim() === "") return;
    const request: LiveRequest =
      format === "text"
        ? { run, stage, text }
        : { run, stage, chat: { system: system.trim() === "" ? null : system.trim(), user: text } };
    setBusy(true);
    setError(null);
    try {
      setResult(await api.live(request));
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card live-box" aria-labelledby="live-heading">
      <h2 id="live-heading">Live: a prompt's top latents</h2>
      <form onSubmit={submit} class="live-form">
        <label for="live-input">Prompt</label>
        <textarea
          id="live-input"
          data-testid="live-input"
          rows={3}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <div class="live-options">
          <label for="live-format">Format</label>
          <select id="live-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as "text" | "chat")}>
            <option value="text">plain text</option>
            <option value="chat">chat turn (chat template)</option>
          </select>
          {format === "chat" ? (
            <>
              <label for="live-system">System prompt</label>
              <input
                id="live-system"
                type="text"
                list="live-system-conditions"
                value={system}
                onInput={(e) => setSystem(e.currentTarget.value)}
                aria-describedby="live-system-hint"
              />
              <datalist id="live-system-conditions">
                {SYSTEM_CONDITIONS.map((condition) => (
                  <option value={condition} key={condition} />
                ))}
              </datalist>
              <p id="live-system-hint" class="muted hint">
                A condition (model-default, empty, no-system-turn, custom:TEXT) or the system prompt's text; blank: no
                system turn.
              </p>
            </>
          ) : null}
          <label for="live-stage">Stage</label>
          <select id="live-stage" value={stage} onChange={(e) => setStage(e.currentTarget.value as StageName)}>
            {STAGES.map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" data-testid="live-run" disabled={busy}>
          {busy ? "Running…" : "Run"}
        </button>
      </form>
      {error ? <ErrorPanels errors={[error.toPanel("api/live")]} /> : null}
      <div aria-live="polite">{result ? <LiveResult result={result} /> : null}</div>
    </section>
  );
}

function LiveResult({ result }: { result: LiveResponse }) {
  return (
    <>
      <p class="muted">
        {result.tokens.length} tokens · stage {result.stage} on the {result.model} model · <code>{result.hook}</code> ·{" "}
        {Math.round(result.ms)} ms
      </p>
      <ol class="live-tokens">
        {result.tokens.map((token, i) => (
          <li class="live-token" data-testid="live-token" key={i}>
            <code class="token-text">{visibleToken(token.text)}</code>
            {!token.scored ? (
              <span class="muted"> not scored (masked)</span>
            ) : token.top.length === 0 ? (
              <span class="muted"> no latent fires</span>
            ) : (
              <span class="live-latents">
                {token.top.map((entry) => (
                  <a
                    class="chip"
                    data-testid="live-latent"
                    href={href.feature(result.run, result.stage, entry.latent)}
                    key={entry.latent}
                  >
                    <span class="visually-hidden">latent </span>
                    {entry.latent}{" "}
                    <span class="chip-value">
                      <span class="visually-hidden">activation </span>
                      {formatNumber(entry.value, 2)}
                    </span>
                  </a>
                ))}
              </span>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}
