import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root: the commands' default run folders and the embedded toy's cache live under its runs/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
/** Where the embedded toy's files are cached, one folder per toy version and seed (shared by every command). */
export const TOY_CACHE_DIR = path.join(REPO_ROOT, "runs/readouts/toy");
