/**
 * The parent of a finetune, in any format `@difflens/sae` reads (ours, SAELens, sparsify, dictionary_learning):
 * what it is (format, sha256 of its weights, hook, widths, activation rule, normalisation), whether it fits a config
 * (every mismatch named with both values), and the folder the trainer starts from — the parent itself when it is one
 * of our checkpoints, else `<out>/parent/`: the parent written in our layout, its lineage naming the source's format,
 * path and sha256 and any warning (an overridden hook), so that the finetuned SAE's lineage carries them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File, writeJsonAtomic } from "@difflens/common";
import {
  convertSae,
  detectSaeFormat,
  type LineageEntry,
  loadSae,
  SAE_WEIGHTS_FILE,
  type SaeFormat,
} from "@difflens/sae";
import type { SaeConfig } from "../config/sections.ts";
import { DiffingError } from "../errors.ts";

export interface ParentSae {
  /** The SAE folder (a run folder given as --from is replaced by its latest checkpoint). */
  readonly dir: string;
  readonly format: SaeFormat;
  /** sha256 of the format's weights file. */
  readonly sha256: string;
  /** TransformerLens hook it was trained on; null when the format does not record one (sparsify, dictionary_learning). */
  readonly hook: string | null;
  readonly dIn: number;
  readonly dSae: number;
  /** topk, batchtopk, relu or jumprelu. */
  readonly activation: string;
  readonly k: number | null;
  /**
   * The input normalisation it was trained with when that matters to a continuation: ours record it; null for SAEs
   * of other libraries that take raw activations (they fold any constant scaling into the saved weights, which every
   * difflens setting continues exactly); their per-input normalisations (layer_norm, …) by name.
   */
  readonly normalization: string | null;
  readonly step: number;
  readonly tokensSeen: number;
  readonly lineage: readonly LineageEntry[];
}

/** What a finetune needs of its parent. `dIn` is null when the model could not be checked. */
export interface ParentRequirements {
  readonly hook: string;
  readonly dIn: number | null;
  readonly sae: Pick<SaeConfig, "dSae" | "k" | "normalizeActivations">;
}

/** A lineage entry of a parent that was not trained in this run's layout, or was finetuned under a warning. */
type SourceEntry = LineageEntry & { readonly format: SaeFormat; readonly warnings?: readonly string[] };

/** The checkpoint folder `from` names: itself, or a run folder's latest checkpoint. */
export function parentFolder(from: string): string {
  const pointer = path.join(from, "latest.json");
  if (fs.existsSync(path.join(from, "cfg.json")) || fs.existsSync(path.join(from, "ae.pt")) || !fs.existsSync(pointer))
    return from;
  return path.join(from, (JSON.parse(fs.readFileSync(pointer, "utf8")) as { checkpoint: string }).checkpoint);
}

export async function readParentSae(from: string): Promise<ParentSae> {
  const dir = parentFolder(from);
  if (!fs.existsSync(dir))
    throw new DiffingError("PARENT_MISSING", `finetune: --from ${dir} does not exist`, { file: dir });
  const format = detectSaeFormat(dir);
  const sha256 = sha256File(path.join(dir, SAE_WEIGHTS_FILE[format]));
  if (format === "difflens") {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "cfg.json"), "utf8")) as OurCfg;
    const block = cfg.difflens;
    return {
      dir,
      format,
      sha256,
      hook: block.hookName,
      dIn: cfg.d_in,
      dSae: cfg.num_latents,
      activation: cfg.activation ?? "topk",
      k: cfg.k,
      // Step 0: converted or adopted, never trained here; its weights take raw activations like the source's.
      normalization: block.step === 0 ? null : block.normalization.kind,
      step: block.step,
      tokensSeen: block.tokensSeen,
      lineage: block.lineage,
    };
  }
  const sae = await loadSae(dir);
  const act = sae.activation;
  return {
    dir,
    format,
    sha256,
    hook: sae.hookName || null,
    dIn: sae.dIn,
    dSae: sae.dSae,
    activation: act.kind,
    k: "k" in act ? act.k : null,
    normalization: sae.inputNormalization === "none" ? null : sae.inputNormalization,
    step: 0,
    tokensSeen: 0,
    lineage: [],
  };
}

interface OurCfg {
  d_in: number;
  num_latents: number;
  k: number;
  activation?: string;
  difflens: {
    hookName: string | null;
    normalization: { kind: string };
    step: number;
    tokensSeen: number;
    lineage: LineageEntry[];
  };
}

/**
 * Checks the parent against the config: hook, d_in, d_sae, activation rule, k and normalisation. Every mismatch is
 * named with both values in one PARENT_MISMATCH. Returns the warnings to record in the lineage: a hook the parent
 * does not record, or one overridden with `overrideHook`.
 */
export function checkParentSae(
  parent: ParentSae,
  want: ParentRequirements,
  options: { overrideHook: boolean },
): string[] {
  const warnings: string[] = [];
  const mismatches: Array<{ field: string; parent: unknown; config: unknown; fix: string }> = [];
  const differs = (field: string, got: unknown, expected: unknown, fix: string) => {
    if (got !== expected) mismatches.push({ field, parent: got, config: expected, fix });
  };
  if (parent.hook === null) {
    warnings.push(`the parent (${parent.format}) records no hook; assumed to be ${want.hook}, the config's`);
  } else if (parent.hook !== want.hook) {
    if (options.overrideHook)
      warnings.push(`hook overridden (--override-hook): parent trained on ${parent.hook}, finetuned on ${want.hook}`);
    else
      differs(
        "hook",
        parent.hook,
        want.hook,
        "finetune at the parent's hook, or pass --override-hook (recorded as a warning in the lineage)",
      );
  }
  if (want.dIn !== null)
    differs(
      "d_in",
      parent.dIn,
      want.dIn,
      `the model's ${want.hook} is ${want.dIn} wide: the parent was trained on another model or hook`,
    );
  differs("d_sae", parent.dSae, want.sae.dSae, `set sae.dSae to ${parent.dSae}`);
  const convert = "convert it first (`pnpm difflens-convert SRC DST --to sparsify` writes a TopK SAE) and finetune DST";
  differs(
    "activation",
    parent.activation,
    "topk",
    parent.activation === "batchtopk"
      ? `${convert}; its BatchTopK threshold is dropped`
      : "only TopK SAEs can be finetuned here",
  );
  if (parent.k !== null) differs("k", parent.k, want.sae.k, `set sae.k to ${parent.k}`);
  if (parent.normalization !== null) {
    const ours = ["none", "unit-mean-squared-norm"].includes(parent.normalization);
    const fix = ours
      ? `set sae.normalizeActivations to "${parent.normalization}"`
      : "difflens trains on raw or constant-scaled inputs; an SAE that normalises each input cannot be continued";
    differs("normalisation", parent.normalization, want.sae.normalizeActivations, fix);
  }
  if (mismatches.length > 0) {
    const list = mismatches
      .map((m) => `${m.field}: parent ${JSON.stringify(m.parent)}, config ${JSON.stringify(m.config)}`)
      .join("; ");
    const first = mismatches[0]!;
    throw new DiffingError(
      "PARENT_MISMATCH",
      `finetune: the parent ${parent.dir} (${parent.format}) does not fit this config — ${list}`,
      {
        file: parent.dir,
        field: first.field,
        expected: first.config,
        got: first.parent,
        fix: mismatches.map((m) => m.fix).join("; "),
        mismatches,
      },
    );
  }
  return warnings;
}

/** The folder the trainer finetunes from: the parent itself when it is ours and no warning applies, else `dst`. */
export function parentStart(parent: ParentSae, dst: string, warnings: readonly string[]): string {
  return parent.format === "difflens" && warnings.length === 0 ? parent.dir : dst;
}

/**
 * Writes what `parentStart` names when it is `dst` (rewritten: it is this run's own copy): the parent in our layout,
 * the source's format, path and sha256 and the warnings in its lineage. Returns the folder to finetune from.
 */
export async function stageParentSae(parent: ParentSae, dst: string, warnings: readonly string[]): Promise<string> {
  if (parentStart(parent, dst, warnings) === parent.dir) return parent.dir;
  fs.rmSync(dst, { recursive: true, force: true });
  const entry: SourceEntry = {
    path: parent.dir,
    sha256: parent.sha256,
    step: parent.step,
    tokensSeen: parent.tokensSeen,
    format: parent.format,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  if (parent.format !== "difflens") {
    // Another library's SAE: `convert --to difflens` writes it (its lineage names the source), plus our warnings.
    await convertSae(parent.dir, dst, "difflens", { force: true });
    if (warnings.length > 0) {
      const cfg = JSON.parse(fs.readFileSync(path.join(dst, "cfg.json"), "utf8")) as OurCfg;
      const [source, ...older] = cfg.difflens.lineage;
      const lineage = [{ ...source, ...entry }, ...older];
      writeJsonAtomic(path.join(dst, "cfg.json"), { ...cfg, difflens: { ...cfg.difflens, lineage } });
    }
    return dst;
  }
  // Ours under a warning: the same files (optimizer state included, so "keep" still works), one lineage entry more.
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ["sae.safetensors", "optimizer.safetensors", "state.json"]) {
    const file = path.join(parent.dir, f);
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(dst, f), fs.constants.COPYFILE_FICLONE);
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(parent.dir, "cfg.json"), "utf8")) as OurCfg;
  const lineage = [entry, ...parent.lineage];
  writeJsonAtomic(path.join(dst, "cfg.json"), { ...cfg, difflens: { ...cfg.difflens, lineage } });
  return dst;
}

/**
 * The parent a run in `outDir` was started from, as its latest checkpoint records it (the source, not this run's
 * staged copy); null when the run has no checkpoint, undefined when it was trained from scratch.
 */
export function recordedParent(outDir: string): { path: string; sha256: string } | null | undefined {
  const pointer = path.join(outDir, "latest.json");
  if (!fs.existsSync(pointer)) return null;
  const checkpoint = path.join(
    outDir,
    (JSON.parse(fs.readFileSync(pointer, "utf8")) as { checkpoint: string }).checkpoint,
  );
  const cfg = JSON.parse(fs.readFileSync(path.join(checkpoint, "cfg.json"), "utf8")) as OurCfg;
  const [first, second] = cfg.difflens.lineage;
  const source = first !== undefined && path.resolve(first.path) === path.join(outDir, "parent") ? second : first;
  return source === undefined ? undefined : { path: source.path, sha256: source.sha256 };
}
