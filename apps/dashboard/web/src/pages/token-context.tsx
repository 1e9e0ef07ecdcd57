import type { FeatureContext } from "../../../src/api/diffing-types.ts";
import { formatNumber, visibleToken } from "../format.ts";
import { activationBackground } from "../token-color.ts";

/**
 * One max-activating context as token chips. The highlight is the activation's intensity; the value itself is in
 * each active chip's label and its tooltip (hover and keyboard focus), so it is never carried by colour alone.
 */
export function TokenContext({ context, max }: { context: FeatureContext; max: number }) {
  return (
    <li class="context" data-testid="context">
      <p class="context-head muted">
        window {context.window} · max {formatNumber(context.maxValue)} at token {context.maxPosition}
      </p>
      <p class="tokens">
        {context.tokens.map((token, i) => {
          const value = context.values[i] ?? 0;
          const active = value > 0;
          const text = visibleToken(token);
          const atMax = i === context.maxPosition ? " max" : "";
          if (!active) {
            return (
              <span class={`token${atMax}`} data-testid="token" data-value={value} key={i}>
                {text}
              </span>
            );
          }
          return (
            <span
              class={`token active${atMax}`}
              data-testid="token"
              data-value={value}
              data-tip={formatNumber(value)}
              style={{ background: activationBackground(value, max) }}
              // biome-ignore lint/a11y/noNoninteractiveTabindex: focus shows the value (tooltip), like hover does
              tabIndex={0}
              role="img"
              aria-label={`${JSON.stringify(token)}: activation ${formatNumber(value)}`}
              key={i}
            >
              {text}
            </span>
          );
        })}
      </p>
    </li>
  );
}
