/**
 * The runs the server answers for: discovered at start, again for every run list, and again when a request names
 * an id that is not known yet but whose folder now holds a run (a run made while the server runs appears). Ids that
 * are not plain relative paths are refused before touching the disk.
 */
import { access } from "node:fs/promises";
import * as path from "node:path";
import { DashboardError } from "../errors.ts";
import { discoverRuns, findRun } from "../runs/discover.ts";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { clip } from "./query.ts";

export class RunRegistry {
  #runs: DiscoveredRun[] = [];
  #pending: Promise<DiscoveredRun[]> | null = null;

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<RunRegistry> {
    const registry = new RunRegistry(root);
    await registry.refresh();
    return registry;
  }

  get runs(): readonly DiscoveredRun[] {
    return this.#runs;
  }

  /** Rediscovers (concurrent callers share one walk). */
  async refresh(): Promise<readonly DiscoveredRun[]> {
    this.#pending ??= discoverRuns(this.root).finally(() => {
      this.#pending = null;
    });
    this.#runs = await this.#pending;
    return this.#runs;
  }

  /** The run with this id, rediscovering once when its folder has appeared since; NOT_FOUND otherwise. */
  async get(id: string): Promise<DiscoveredRun> {
    const known = this.#runs.find((r) => r.id === id);
    if (known) return known;
    if (isPlainId(id) && (await mayHoldRun(path.join(this.root, id)))) return findRun(await this.refresh(), id);
    throw new DashboardError("NOT_FOUND", `no run "${clip(id)}" under the served folder`, { field: "run" });
  }
}

/** A relative path of plain folder names: no "..", ".", empty parts, backslashes, NUL or absolute forms. */
function isPlainId(id: string): boolean {
  if (id === "." || id === "") return id === ".";
  if (id.includes("\\") || id.includes("\0") || id.startsWith("/")) return false;
  return id.split("/").every((part) => part !== "" && part !== "." && part !== ".." && !part.startsWith("."));
}

async function mayHoldRun(dir: string): Promise<boolean> {
  for (const file of ["run.json", "results.json"]) {
    try {
      await access(path.join(dir, file));
      return true;
    } catch {}
  }
  return false;
}
