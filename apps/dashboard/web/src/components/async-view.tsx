import type { ComponentChildren } from "preact";
import type { AsyncState } from "../data/use-async.ts";
import { ErrorPanels } from "./error-panels.tsx";

/** Loading text, the API failure as an error panel, or the loaded content. */
export function AsyncView<T>(props: {
  state: AsyncState<T>;
  request: string;
  /** A page-level view names the page in an h1 while it loads or when it failed (every page keeps one h1). */
  pageHeading?: string;
  children: (value: T) => ComponentChildren;
}) {
  const { state } = props;
  const heading = props.pageHeading ? <h1>{props.pageHeading}</h1> : null;
  if (state.status === "loading")
    return (
      <>
        {heading}
        <p class="loading" aria-live="polite">
          Loading…
        </p>
      </>
    );
  if (state.status === "error")
    return (
      <>
        {heading}
        <ErrorPanels errors={[state.error.toPanel(props.request)]} />
      </>
    );
  return <>{props.children(state.value)}</>;
}
