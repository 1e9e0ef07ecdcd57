import { STATIC_GLOBAL } from "../../../src/api/routes.ts";
import { ApiError } from "./api-error.ts";

type StaticStore = Record<string, unknown>;
const pending = new Map<string, Promise<unknown>>();

function store(): StaticStore {
  const global = window as unknown as Record<string, StaticStore | undefined>;
  const existing = global[STATIC_GLOBAL];
  if (existing !== undefined) return existing;
  const created: StaticStore = {};
  global[STATIC_GLOBAL] = created;
  return created;
}

/**
 * One response of a static export: injects `<script src="data/<key>.js">` once (script tags load from file:// where
 * fetch cannot) and reads what it assigned into the global.
 */
export function loadStaticData(key: string): Promise<unknown> {
  if (key in store()) return Promise.resolve(store()[key]);
  let promise = pending.get(key);
  if (promise === undefined) {
    promise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `data/${key}.js`;
      script.onload = () => {
        if (key in store()) resolve(store()[key]);
        else reject(new ApiError("NOT_FOUND", `data/${key}.js did not define "${key}".`, 404, `data/${key}.js`));
      };
      script.onerror = () => {
        pending.delete(key);
        script.remove();
        const message = "This page is not part of the static export (only the exported runs, latents and pages are).";
        reject(new ApiError("NOT_FOUND", message, 404, `data/${key}.js`));
      };
      document.head.append(script);
    });
    pending.set(key, promise);
  }
  return promise;
}
