/**
 * Hook names of a model: its family's site table (hooks/hook-sites.ts, chosen by the config's `architecture`)
 * expanded over the layers, parsed and validated, and each name's shape for a call.
 */
import { nearest } from "@difflens/common";
import { HookError } from "../errors.ts";
import type { DecoderConfig } from "../families/model-family.ts";
import { familyByName } from "../families/registry.ts";
import { DECODER_HOOK_SITES, type HookDim, type HookSite } from "./hook-sites.ts";

export type { HookDim, HookSite } from "./hook-sites.ts";

/** Qwen2's table (the common decoder table): what `HOOK_SITES` has always listed. */
export const HOOK_SITES: readonly HookSite[] = DECODER_HOOK_SITES;

/** What naming hooks needs of a config: its layer count and (default "qwen2") its family. */
export type HookConfig = Pick<DecoderConfig, "nLayers"> & { readonly architecture?: string };

export interface ParsedHookName {
  readonly name: string;
  readonly site: HookSite;
  /** Layer index for block sites, -1 before the blocks (hook_embed), nLayers after them (ln_final). */
  readonly layer: number;
  /** Position in forward order (comparable across names of one model). */
  readonly order: number;
}

/** A family's table split where the forward pass reaches it: model sites before the blocks, block sites, after. */
interface SiteLayout {
  readonly before: readonly HookSite[];
  readonly block: readonly HookSite[];
  readonly after: readonly HookSite[];
}

const layouts = new WeakMap<readonly HookSite[], SiteLayout>();

function layoutOf(config: HookConfig): SiteLayout {
  const sites = familyByName(config.architecture ?? "qwen2").hookSites;
  let layout = layouts.get(sites);
  if (!layout) {
    const firstBlock = sites.findIndex((s) => s.scope === "block");
    layout = {
      before: sites.slice(0, firstBlock).filter((s) => s.scope === "model"),
      block: sites.filter((s) => s.scope === "block"),
      after: sites.slice(firstBlock).filter((s) => s.scope === "model"),
    };
    layouts.set(sites, layout);
  }
  return layout;
}

/** Every hook name of a model, in forward order. */
export function hookNames(config: HookConfig): string[] {
  const { before, block, after } = layoutOf(config);
  const names = before.map((s) => s.template);
  for (let L = 0; L < config.nLayers; L++) for (const s of block) names.push(s.template.replace("{L}", String(L)));
  for (const s of after) names.push(s.template);
  return names;
}

/** Parses and validates a hook name; unknown names throw `UNKNOWN_HOOK` with the nearest valid name. */
export function parseHookName(name: string, config: HookConfig): ParsedHookName {
  const { before, block, after } = layoutOf(config);
  const blockStart = before.length;
  const afterStart = blockStart + config.nLayers * block.length;
  const i = before.findIndex((s) => s.template === name);
  if (i >= 0) return { name, site: before[i]!, layer: -1, order: i };
  const j = after.findIndex((s) => s.template === name);
  if (j >= 0) return { name, site: after[j]!, layer: config.nLayers, order: afterStart + j };
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const layer = Number(m[1]);
    const k = block.findIndex((s) => s.template === `blocks.{L}.${m[2]}`);
    if (k >= 0 && layer < config.nLayers)
      return { name, site: block[k]!, layer, order: blockStart + layer * block.length + k };
  }
  const suggestion = nearest(name, hookNames(config));
  throw new HookError(
    "UNKNOWN_HOOK",
    `unknown hook "${name}"${suggestion ? ` — did you mean "${suggestion}"?` : ""} (model has ${config.nLayers} layers; list them with: difflens-forward --model DIR --list-hooks)`,
    { got: name, suggestion },
  );
}

export interface HookShapeContext {
  batch: number;
  /** Query positions in this call. */
  pos: number;
  /** Keys visible to attention (past cache + pos). Defaults to pos. */
  keyPos?: number;
}

/** The concrete shape of a hook tensor for a call. */
export function hookShape(site: HookSite, config: DecoderConfig, ctx: HookShapeContext): number[] {
  const size: Record<HookDim, number> = {
    batch: ctx.batch,
    pos: ctx.pos,
    keyPos: ctx.keyPos ?? ctx.pos,
    dModel: config.dModel,
    nHeads: config.nHeads,
    nKvHeads: config.nKvHeads,
    dHead: config.dHead,
    dMlp: config.dMlp,
  };
  return site.dims.map((d) => size[d]);
}
