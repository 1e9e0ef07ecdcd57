/**
 * A stage's fingerprint: everything that determines the SAE it ends with — its model (the toy's recipe, or the
 * model's and adapter's file hashes), hook, data (settings and file hashes), mask, SAE hyper-parameters and seed,
 * tokens and lr, harvest settings, and its parent's fingerprint (so a changed S changes D, M, DF and MF too).
 * Computed from the config alone, before anything is trained or loaded.
 */
import { fingerprintDigest, folderFingerprint } from "@difflens/app-kit";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import {
  chatDataFingerprint,
  harvestFingerprint,
  maskFingerprint,
  modelRefFingerprint,
  saeFingerprint,
  textDataFingerprint,
} from "../run/fingerprint-sections.ts";
import { TOY_VERSION } from "../toy/toy-files.ts";
import { STAGES } from "./stage-plan.ts";

export type StageFingerprint = Readonly<Record<string, unknown>>;

export interface StageFingerprints {
  readonly fields: Readonly<Record<StageName, StageFingerprint>>;
  readonly digests: Readonly<Record<StageName, string>>;
}

/** The fingerprints of all five stages under `config`, parents first. */
export function stageFingerprints(config: DiffingConfig): StageFingerprints {
  const fields = {} as Record<StageName, StageFingerprint>;
  const digests = {} as Record<StageName, string>;
  const models = { base: pipelineModelFingerprint(config, "base"), chat: pipelineModelFingerprint(config, "chat") };
  for (const stage of STAGE_NAMES) {
    const plan = STAGES[stage];
    const stageCfg = config.stages[stage];
    const common = { stage, model: models[plan.model], hook: config.hook };
    let fp: StageFingerprint;
    if (stage === "S" && stageCfg.pretrained !== null) {
      const sae = { dSae: config.sae.dSae, k: config.sae.k };
      fp = { ...common, sae, pretrained: folderFingerprint(stageCfg.pretrained) };
    } else {
      fp = {
        ...common,
        data: plan.data === "text" ? textDataFingerprint(config.textData) : chatDataFingerprint(config.chatData),
        mask: maskFingerprint(config.mask),
        sae: saeFingerprint(config.sae, plan.parent !== null),
        tokens: stageCfg.tokens,
        lr: stageCfg.lr,
        harvest: harvestFingerprint(config.harvest),
        parent: plan.parent === null ? null : { stage: plan.parent, fingerprint: digests[plan.parent] },
      };
    }
    fields[stage] = fp;
    digests[stage] = fingerprintDigest(fp);
  }
  return { fields, digests };
}

/**
 * The toy pair is generated deterministically from its recipe (TOY_VERSION changes whenever the generator does),
 * so its recipe is its identity: the base depends on the seed only, the chat model on the plant too.
 */
function pipelineModelFingerprint(config: DiffingConfig, side: "base" | "chat"): Record<string, unknown> {
  const toy = config.toy;
  if (toy === null) return modelRefFingerprint(side === "base" ? config.baseModel! : config.chatModel!);
  const recipe = { version: TOY_VERSION, seed: toy.seed };
  if (side === "base") return { toy: recipe };
  return { toy: toy.plant ? { ...recipe, plant: true, plantScale: toy.plantScale } : { ...recipe, plant: false } };
}
