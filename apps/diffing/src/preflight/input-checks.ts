/**
 * The diffing app's inputs, checked with app-kit's preflight pieces: a model folder at a hook, its tokenizer with
 * the special tokens the config names, the data files with the columns the windows read, an output folder.
 */
import * as path from "node:path";
import {
  type ColumnKind,
  checkFreeDisk,
  checkModelFolder,
  checkParquetColumns,
  checkWritableFolder,
  formatBytes,
  hookWidth,
  type ModelRef,
  type Preflight,
} from "@difflens/app-kit";
import type { DecoderConfig } from "@difflens/runtime";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import type { ChatDataConfig, MaskConfig, TextDataConfig } from "../config/sections.ts";
import { maskRulesOf, specialId } from "../data/windows.ts";

export interface CheckedModel {
  readonly config: DecoderConfig;
  /** Width of the hook's rows: the SAE's d_in. */
  readonly dIn: number;
}

/** The model folder (config, weight index, shapes, adapter) and the hook on it. */
export async function checkModelAt(
  pf: Preflight,
  label: string,
  ref: ModelRef,
  hook: string,
): Promise<CheckedModel | undefined> {
  const adapter = ref.adapter === null ? "" : ` + LoRA ${ref.adapter}`;
  const model = await pf.check(`${label} ${ref.path}${adapter}`, () => checkModelFolder(ref));
  if (model === undefined) return undefined;
  const dIn = await pf.check(`hook ${hook} on the ${label}`, () => hookWidth(model.config, hook));
  return dIn === undefined ? undefined : { config: model.config, dIn };
}

/** The tokenizer (in `source`, named `label`), with every special token the config names (masks, separator, padding). */
export async function checkTokenizer(
  pf: Preflight,
  source: string,
  config: { mask: MaskConfig; textData: TextDataConfig | null; chatData: ChatDataConfig | null },
  label = `tokenizer of ${source}`,
): Promise<Tokenizer | undefined> {
  const tokenizer = await pf.check(label, () => loadTokenizer(source));
  if (tokenizer === undefined) return undefined;
  await pf.check("special tokens of the config", () => {
    maskRulesOf(config.mask, tokenizer);
    if (config.textData) specialId(tokenizer, config.textData.separatorToken, "textData.separatorToken");
    if (config.chatData) specialId(tokenizer, config.chatData.padToken, "chatData.padToken");
  });
  return tokenizer;
}

/** The columns the windows read from each file of a dataset. */
export function dataColumns(data: TextDataConfig | ChatDataConfig): Record<string, ColumnKind> {
  if (!("format" in data)) return { [data.column]: "string" };
  if (data.format === "tokenized") return { [data.column]: "int-list" };
  return { instruction: "string", input: "string", output: "string" };
}

/** Every file of a dataset (footer, schema, the columns, a first row group); true when all passed. */
export async function checkDataFiles(
  pf: Preflight,
  label: string,
  data: TextDataConfig | ChatDataConfig,
  base: string,
): Promise<boolean> {
  const columns = dataColumns(data);
  let ok = true;
  for (const file of data.files) {
    const checked = await pf.check(`${label} ${path.relative(base, file) || file}`, () =>
      checkParquetColumns(file, columns),
    );
    ok &&= checked !== undefined;
  }
  return ok;
}

/** The output folder is writable, and its disk holds `bytes` more. */
export async function checkOutput(
  pf: Preflight,
  dir: string,
  bytes: number,
  what: string,
): Promise<number | undefined> {
  await pf.check(`output folder ${dir}`, () => checkWritableFolder(dir));
  return pf.check(`disk space for ${what} (≈ ${formatBytes(bytes)})`, () => checkFreeDisk(dir, bytes, what));
}
