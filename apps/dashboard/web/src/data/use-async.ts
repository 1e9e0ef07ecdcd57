import { useEffect, useState } from "preact/hooks";
import { type ApiError, asApiError } from "./api-error.ts";

export type AsyncState<T> = { status: "loading" } | { status: "ok"; value: T } | { status: "error"; error: ApiError };

/** Runs `load` whenever `deps` change; a stale answer (the user moved on) is dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<AsyncState<T>>({ status: "loading" });
  useEffect(() => {
    let current = true;
    setState({ status: "loading" });
    load().then(
      (value) => current && setState({ status: "ok", value }),
      (error: unknown) => current && setState({ status: "error", error: asApiError(error) }),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}
