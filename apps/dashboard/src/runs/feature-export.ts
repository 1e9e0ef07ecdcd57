/**
 * One feature as Neuronpedia-style JSON, in the shape of SAEDashboard's Neuronpedia export
 * (sae_dashboard/neuronpedia/neuronpedia_dashboard.py: a `NeuronpediaDashboardBatch` { model_id, layer, sae_set,
 * features } holding one `NeuronpediaDashboardFeature`), with the fields we have:
 *   feature_index, pos_str / pos_values, neg_str / neg_values (top logits of this stage's decoder direction),
 *   frac_nonzero, freq_hist_data_bar_heights / freq_hist_data_bar_values (parallel arrays: counts and bin centres —
 *   Neuronpedia reads both at the same index), n_prompts_total (windows scanned), dataset, activations[] { tokens,
 *   values, bin_min, bin_max, bin_contains, qualifying_token_index } (the max-activating contexts of the side whose
 *   model this stage reads: base for S and D, chat for M, DF and MF; one "top activations" bin: bin_min / bin_max
 *   the range of the shown maxima, bin_contains the latent's firing frequency).
 * Not computed here, so left out: correlated neurons/features, the logits histogram, decoder_weights_dist, vector.
 * `difflens` carries what Neuronpedia has no field for (run, stage, unembedding, cosines, bin edges).
 */
import type { StageName } from "../api/diffing-types.ts";
import { loadFeaturesFile } from "./diffing-files.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { featurePage } from "./feature-page.ts";

export const NEURONPEDIA_SCHEMA = "SAEDashboard NeuronpediaDashboardBatch/Feature (sae_dashboard/neuronpedia, 2025)";

const BASE_STAGES: readonly StageName[] = ["S", "D"];

export async function featureExport(run: DiscoveredRun, stage: StageName, latent: number): Promise<object> {
  const page = await featurePage(run, stage, latent);
  const side = BASE_STAGES.includes(stage) ? page.contexts.base : page.contexts.chat;
  const examples = side?.examples ?? [];
  const maxActApprox = page.density
    ? page.density.edges[page.density.edges.length - 1]!
    : Math.max(0, ...examples.map((e) => e.maxValue));
  const edges = page.density?.edges ?? [];
  const fracNonzero = page.density?.frequency ?? side?.density ?? 0;
  const shownMax = examples.map((e) => e.maxValue);
  const features = await loadFeaturesFile(run, []);
  const feature = {
    feature_index: latent,
    maxActApprox,
    pos_str: page.logits?.positive.map((l) => l.token) ?? [],
    pos_values: page.logits?.positive.map((l) => l.value) ?? [],
    neg_str: page.logits?.negative.map((l) => l.token) ?? [],
    neg_values: page.logits?.negative.map((l) => l.value) ?? [],
    frac_nonzero: fracNonzero,
    freq_hist_data_bar_heights: page.density?.counts ?? [],
    freq_hist_data_bar_values: edges.slice(0, -1).map((e, i) => (e + edges[i + 1]!) / 2),
    n_prompts_total: features?.windowsScanned ?? 0,
    dataset: features?.data ?? "",
    activations: examples.map((e) => ({
      bin_min: Math.min(...shownMax),
      bin_max: Math.max(...shownMax),
      bin_contains: fracNonzero,
      tokens: e.tokens,
      values: e.values,
      qualifying_token_index: e.maxPosition,
    })),
    difflens: {
      run: page.run,
      stage,
      hook: page.hook,
      rank: page.rank,
      contextsFrom: side ? `${side.stage} on the ${side.model} model` : null,
      unembedding: page.logits
        ? `${page.logits.unembedding} model: W_dec[i] · W_U^T, no final norm (as SAELens / sae_vis)`
        : null,
      cosines: page.cosines,
      density: page.density ? { tokens: page.density.tokens, binEdges: page.density.edges } : null,
      errors: page.errors,
    },
  };
  const layer = /^blocks\.(\d+)\./.exec(page.hook);
  const name = (run.runJson?.config as { name?: unknown } | undefined)?.name;
  return {
    schema: NEURONPEDIA_SCHEMA,
    model_id: typeof name === "string" ? name : run.id,
    layer: layer ? Number(layer[1]) : page.hook,
    sae_set: `difflens-${stage}`,
    features: [feature],
  };
}
