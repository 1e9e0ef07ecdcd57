/**
 * Stage 3's input and output shapes (seed 001's tables, issue 18). `analyzeAttentionMarker` returns an
 * `AttentionMarkerAnalysis`: a plain JSON-able object (numbers, strings, booleans, arrays, null — never NaN; a value
 * that does not exist, e.g. an SEM over one example, is null). results.json carries it under `analysis`.
 *
 * Conventions used throughout:
 * - every per-layer array is indexed like `layers` (the layer labels read, in order);
 * - a "delta" is per example: head-mean fraction at the marker position − the same at a control stratum's position,
 *   on one region group and segmentation; E = the examples where both positions exist;
 * - "pooled" = all examples of every run seed together (pairings stay within a seed: by trial for the force-feed, by
 *   question for C4).
 */
import type { ExampleReadout, ReadoutModel, RegionGroup } from "./records.ts";

/** One persona × run seed as stage 2 left it. */
export interface PersonaSeedReadouts {
  readonly persona: string;
  readonly runSeed: number;
  /** Layer labels the readouts' layer axis covers, in order (fractions are [layers, heads, groups]). */
  readonly layers: readonly number[];
  /** The trained model on its positives (marker emitted). */
  readonly positives: readonly ExampleReadout[];
  /** The trained model on its negatives: only the c4 stratum is read (end of answer). */
  readonly negatives: readonly ExampleReadout[];
  /** The comparator force-fed the same positives (same tokens, same positions), or null (no force-feed). */
  readonly comparator: readonly ExampleReadout[] | null;
}

export interface GatesConfig {
  /** Gate A: #{δ_system > 0} ≥ ⌈threshold · E⌉. */
  readonly directionThreshold: number;
  /** Level of the sign-balance verdicts (`signBalance.pValue < alpha`). */
  readonly alpha: number;
}

export type Segmentation = "A" | "B";
export type Contrast = "c1" | "c2" | "c3" | "c4";
/** The within-model gates (A–D on marker − C1) and the deferred SEM-bar tests on marker − C2 / C3 / C4. */
export const GATE_NAMES = ["A", "B", "C", "D", "C2", "C3", "C4"] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** Two-sided binomial test on #layers with a positive value among layers with |value| > 1e-9. */
export interface SignBalance {
  readonly positive: number;
  readonly negative: number;
  /** Layers with |value| ≤ 1e-9 (dropped before testing). */
  readonly zeros: number;
  /** null when every value is a zero (nothing to test). */
  readonly pValue: number | null;
}

/** Mean ± SEM over examples, per layer, of one quantity (a delta or a fraction). */
export interface LayerProfile {
  /** Examples summarised (E). */
  readonly n: number;
  readonly mean: readonly number[];
  /** SD (ddof 1) / √n; null when n < 2. */
  readonly sem: readonly (number | null)[];
  /** #examples with a value > 0, per layer (gate A's count). */
  readonly positive: readonly number[];
  readonly signBalance: SignBalance;
  readonly peak: LayerValue;
}

export interface LayerValue {
  readonly layer: number;
  readonly value: number;
}

/** Per region group, one profile per segmentation. */
export type GroupProfiles = Readonly<Record<Segmentation, Readonly<Record<RegionGroup, LayerProfile>>>>;

export interface ContrastAnalysis {
  /** Examples with both positions (E). */
  readonly n: number;
  /** Positives left out: the control position did not exist (c1–c3) or the question had no negative (c4). */
  readonly missing: number;
  /** null when n = 0. */
  readonly profiles: GroupProfiles | null;
}

export interface GateTable {
  /** Gate → per-layer pass flags; null = not applicable (see `notApplicable`). */
  readonly pass: Readonly<Record<GateName, readonly boolean[] | null>>;
  /** Gate → #layers passing (null = not applicable). */
  readonly counts: Readonly<Record<GateName, number | null>>;
  readonly notApplicable: Readonly<Partial<Record<GateName, string>>>;
  /** Gate A's bar: ⌈directionThreshold · E⌉ positive examples. */
  readonly directionRequired: number;
  /** Contiguous layer windows where A, B, C and D all pass: [first, last] inclusive, and as text "[8, 10] ∪ [12, 27]". */
  readonly windows: readonly (readonly [number, number])[];
  readonly windowsText: string;
  /** Windows per gate (same form). */
  readonly gateWindows: Readonly<Record<GateName, string | null>>;
  /** One line, the seed's table row: "A 24/28 · B 28/28 · C 23/28 · D 23/28 · C2 … · C3 … · C4 n/a · window [6, 27]". */
  readonly summary: string;
}

/** The seed's specials-absorption figures for one model (marker − C1 deltas). */
export interface SpecialsAbsorption {
  /** Per region: (seg A − seg B) of the mean delta, its max over layers (with layer) and mean over layers. */
  readonly gapAMinusB: Readonly<Record<Exclude<RegionGroup, "specials">, { max: LayerValue; mean: number }>>;
  /** The specials region's own mean delta (seg B): max over layers (with layer), mean over layers. */
  readonly specialsDelta: { readonly max: LayerValue; readonly mean: number };
  /** Absolute head-mean attention of the marker position on specials (seg B): max and mean over layers. */
  readonly markerOnSpecials: { readonly max: LayerValue; readonly mean: number };
}

/**
 * Gate F (positive vs negative trajectories): per layer, does the marker position of positives attend to system
 * content (seg B) more than the end-of-answer position of negatives, beyond both SEM bars? `reframeRequired`: the
 * within-model window (A–D pass) is mostly NOT specific to marker emission. Applicable only with both trajectories.
 */
export interface GateF {
  readonly applicable: boolean;
  readonly reason?: string;
  /** Per layer: mean system_B fraction at t* in positives, and at the c4 position in negatives. */
  readonly positive?: LayerProfile;
  readonly negative?: LayerProfile;
  readonly pass?: readonly boolean[];
  readonly count?: number;
  /** #layers of the A–D window, and how many of them pass F. */
  readonly windowLayers?: number;
  readonly windowPass?: number;
  readonly reframeRequired?: boolean;
}

/**
 * sink_reframe_required: among the layers where gates A, B and C pass on segmentation A, a layer is "absorbed" when
 * gate D fails there and the specials delta (seg B) exceeds the system delta (seg B); required when more than half
 * of those layers are absorbed — the seg-A effect then lives on structural specials, not on system content.
 */
export interface SinkReframe {
  readonly layersABC: number;
  readonly absorbed: number;
  readonly required: boolean;
}

/** One model (trained or comparator) on one persona's positives (one seed, or pooled). */
export interface ModelAnalysis {
  readonly model: ReadoutModel;
  /** Positives read (E before a stratum is missing). */
  readonly examples: number;
  /** Largest |Σ groups − 1| over the examples. */
  readonly partitionError: number;
  /** Head-mean attention fractions at the marker position. */
  readonly marker: GroupProfiles;
  readonly contrasts: Readonly<Record<Contrast, ContrastAnalysis>>;
  readonly gates: GateTable;
  /** Peak over layers of mean δ_system (marker − C1), seg B: the seed's "peak system_B delta_c1_mean". */
  readonly peakSystemB: LayerValue | null;
  /** [layers][heads]: mean δ_system_B (marker − C1) per head. */
  readonly perHeadSystemB: readonly (readonly number[])[] | null;
  readonly specialsAbsorption: SpecialsAbsorption | null;
  readonly gateF: GateF;
  readonly sinkReframe: SinkReframe;
}

/** The force-feed diff-of-diffs dd = (trained_marker − trained_C1) − (comparator_marker − comparator_C1), per layer. */
export interface DiffOfDiffsAnalysis {
  readonly segmentation: Segmentation;
  readonly region: "system";
  /** Paired examples (same sequence under both models). */
  readonly n: number;
  readonly perLayer: {
    readonly mean: readonly number[];
    readonly sem: readonly (number | null)[];
    /** |mean| > SEM: the ±1 SEM bar excludes zero (paired over examples). */
    readonly semExcludesZero: readonly boolean[];
  };
  /** Mean over layers of the per-layer means. */
  readonly mean: number;
  readonly max: LayerValue;
  readonly min: LayerValue;
  /** #layers with dd > 1e-9. */
  readonly layersPositive: number;
  /** #layers with dd < −0.005 (comparator above trained) and dd > 0.005 (the reverse). */
  readonly comparatorAboveTrained: number;
  readonly trainedAboveComparator: number;
  readonly signBalance: SignBalance;
  /** signBalance.pValue < gates.alpha. */
  readonly signBalanceSignificant: boolean;
  /** [layers][heads]: mean dd per head. */
  readonly perHead: readonly (readonly number[])[];
}

export interface ForceFeedAnalysis {
  /** Positives with a comparator readout of the same sequence / without one. */
  readonly paired: number;
  readonly unpaired: number;
  readonly diffOfDiffs: Readonly<Record<Segmentation, DiffOfDiffsAnalysis>>;
  /** The "layer-profile shift": each model's peak layer of mean δ_system_B, and comparator − trained. */
  readonly trainedPeak: LayerValue;
  readonly comparatorPeak: LayerValue;
  readonly peakShift: number;
  /** One line with the seed's numbers (segmentation B). */
  readonly summary: string;
}

export interface PersonaSeedAnalysis {
  /** The seeds the numbers cover: [seed], or every seed for the pooled analysis. */
  readonly runSeeds: readonly number[];
  readonly positives: number;
  readonly negatives: number;
  readonly trained: ModelAnalysis;
  readonly comparator: ModelAnalysis | null;
  readonly forceFeed: ForceFeedAnalysis | null;
}

export interface PersonaAnalysis {
  readonly persona: string;
  readonly pooled: PersonaSeedAnalysis;
  readonly perSeed: readonly PersonaSeedAnalysis[];
}

/** One row of the seed's headline table: a persona × model, pooled or one seed. */
export interface HeadlineRow {
  readonly persona: string;
  readonly model: ReadoutModel;
  /** "pooled" or the seed. */
  readonly runSeed: number | "pooled";
  readonly n: number;
  /** Gate → #layers passing out of `layers.length` (null = not applicable). */
  readonly gates: Readonly<Record<GateName, number | null>>;
  readonly window: string;
  readonly peakSystemB: LayerValue | null;
  readonly gateFReframeRequired: boolean | null;
  readonly sinkReframeRequired: boolean;
  /** The force-feed line (trained rows with a comparator), else null. */
  readonly forceFeed: string | null;
}

export interface AttentionMarkerAnalysis {
  readonly gates: GatesConfig;
  readonly layers: readonly number[];
  /** The seed's table: pooled rows first, then one per seed (per persona: trained, then comparator). */
  readonly headline: readonly HeadlineRow[];
  readonly personas: readonly PersonaAnalysis[];
  /** Persona × seed left out, and why (no positives). */
  readonly skipped: readonly { readonly persona: string; readonly runSeed: number; readonly reason: string }[];
}
