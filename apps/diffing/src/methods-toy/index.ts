// The methods toy (issue 21's known answer): three plants or the control, as PEFT adapters on a small Qwen2.
export {
  ensureMethodsToy,
  METHODS_TOY_HOOK,
  METHODS_TOY_SHAPE,
  METHODS_TOY_VARIANTS,
  METHODS_TOY_VERSION,
  type MethodsToy,
  type MethodsToyVariant,
} from "./methods-toy.ts";
export { inFeatureClass, METHODS_TOY_SCALES, type MethodsToyScales, TRIGGER_ID } from "./plants.ts";
export { METHODS_TOY_TRAINING } from "./training.ts";
export {
  ASSISTANT_HEADER,
  afterTrigger,
  METHODS_TOY_WINDOW_LENGTH,
  type MethodsToyWindowKind,
  methodsToyWindowKind,
  methodsToyWindows,
} from "./windows.ts";
