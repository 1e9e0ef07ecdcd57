/**
 * Stage-wise diffing as one method among the others: the existing pipeline (S → D, M → DF, MF, then compare's ranking) on the
 * methods run's pair, with the config's own data, mask, SAE and stage settings and every stage's tokens scaled by
 * `tokenScale`. Writes into `<dir>/`:
 *   pipeline/                 the pipeline's run folder (stages/; compare/ is not written: `compare --run-dir` makes it)
 *   top-latents.json          { stages, ranking, leadingChange: {explained}, latents: [{latent, rank, score,
 *                             cosD_DF, cosM_MF}] } — the top of the two-stage ranking (score = cos(D,DF) + cos(M,MF),
 *                             lowest = moved most between the base SAE and its chat finetunes)
 *   top-latents.safetensors   directions F32 [n, dIn]: unit MF decoder rows (row i = latents[i]); changes F32
 *                             [n, dIn]: unit MF_i − M_i; leading_change F32 [dIn]: the leading direction of the
 *                             stacked changes DF_i − D_i, MF_i − M_i of those latents (the demo's recovery check)
 */
import * as path from "node:path";
import type { ModelPair } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import { loadStageSaes } from "../compare/compare.ts";
import { latentCosines, twoStageRanking } from "../compare/latent-cosines.ts";
import { cosine, leadingRightSingularVector } from "../compare/leading-direction.ts";
import { type DiffingConfig, resolveDiffingConfig, STAGE_NAMES } from "../config/diffing-config.ts";
import { trainStages } from "../stages/pipeline.ts";
import type { MethodsPair } from "./methods-pair.ts";

/** The reduced pipeline config on the methods pair, its run folder under `dir`. */
export function stagewiseConfig(pipeline: DiffingConfig, pair: MethodsPair, tokenScale: number, dir: string) {
  const { file, methods: _m, ...rest } = pipeline;
  const stages = Object.fromEntries(
    STAGE_NAMES.map((s) => {
      const st = pipeline.stages[s];
      return [s, { ...st, tokens: Math.max(pipeline.sae.batchSize, Math.round(st.tokens * tokenScale)) }];
    }),
  );
  return resolveDiffingConfig(
    {
      ...rest,
      name: `${pipeline.name}-stagewise`,
      runDir: path.join(dir, "pipeline"),
      toy: null,
      baseModel: pair.base,
      chatModel: pair.chat,
      hook: pair.hook,
      stages,
      wandb: { ...pipeline.wandb, mode: "disabled" },
    },
    dir,
    file,
  );
}

export async function runStagewiseMethod(opts: {
  pipeline: DiffingConfig;
  pair: MethodsPair;
  models: ModelPair;
  tokenScale: number;
  topLatents: number;
  /** The method's folder (written whole). */
  dir: string;
  log: (line: string) => void;
}): Promise<void> {
  const config = stagewiseConfig(opts.pipeline, opts.pair, opts.tokenScale, opts.dir);
  await trainStages(config, ["DF", "MF"], {
    withParents: true,
    withParentsReason: "methods-report trains every stage",
    log: opts.log,
    models: { ...opts.models, planted: null },
    command: "methods-report",
  });
  // compare's ranking without its folder and figures (the methods report draws its own).
  const saes = await loadStageSaes(config, "methods-report");
  const cosines = latentCosines(saes);
  const ranking = twoStageRanking(cosines.decoder.D_DF, cosines.decoder.M_MF);
  const d = saes.S.dIn;
  const row = (stage: "D" | "M" | "DF" | "MF", i: number) => saes[stage].weights.wDec.subarray(i * d, (i + 1) * d);
  const unit = (v: ArrayLike<number>) => {
    const n = Math.hypot(...Array.from(v)) || 1;
    return Float32Array.from(v, (x) => x / n);
  };
  const minus = (a: Float32Array, b: Float32Array) => Float64Array.from(a, (x, j) => x - b[j]!);
  const top = ranking.slice(0, opts.topLatents);
  const stack = top.flatMap((i) => [minus(row("DF", i), row("D", i)), minus(row("MF", i), row("M", i))]);
  const lead = leadingRightSingularVector(stack, d);
  const directions = top.map((i) => unit(row("MF", i)));
  const changes = top.map((i) => unit(minus(row("MF", i), row("M", i))));
  // Sign the leading change like the summed MF changes (a singular vector's sign is arbitrary).
  const sum = new Float64Array(d);
  for (const c of changes) for (let j = 0; j < d; j++) sum[j]! += c[j]!;
  const sign = cosine(lead.direction, sum) < 0 ? -1 : 1;
  writeJsonAtomic(path.join(opts.dir, "top-latents.json"), {
    stages: { ranking: ["D", "DF", "M", "MF"], direction: "MF", change: "MF - M" },
    ranking: "score = cos(D,DF) + cos(M,MF) of decoder rows, ascending (moved most first)",
    pipeline: "pipeline",
    leadingChange: { explained: lead.explained },
    latents: top.map((latent, r) => ({
      latent,
      rank: r + 1,
      score: cosines.decoder.D_DF[latent]! + cosines.decoder.M_MF[latent]!,
      cosD_DF: cosines.decoder.D_DF[latent]!,
      cosM_MF: cosines.decoder.M_MF[latent]!,
    })),
  });
  const stacked = (rows: Float32Array[]) => {
    const out = new Float32Array(rows.length * d);
    rows.forEach((r, i) => void out.set(r, i * d));
    return new Tensor("f32", [rows.length, d], out);
  };
  await writeSafetensors(path.join(opts.dir, "top-latents.safetensors"), {
    directions: stacked(directions),
    changes: stacked(changes),
    leading_change: new Tensor(
      "f32",
      [d],
      Float32Array.from(lead.direction, (v) => sign * v),
    ),
  });
}
