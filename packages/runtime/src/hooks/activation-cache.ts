import type { Tensor } from "@difflens/tensor";
import { nearest } from "../config/nearest.ts";
import { HookError } from "../errors.ts";

/**
 * The hook outputs one `runWithCache` kept: f32 copies with a leading batch dimension, restricted to the asked
 * positions (then the "pos" axis has `positions.length` entries, in the order asked).
 */
export class ActivationCache {
  constructor(
    private readonly tensors: ReadonlyMap<string, Tensor>,
    /** Kept query positions (padded indices, resolved), or null for all. */
    readonly positions: readonly number[] | null,
  ) {}

  /** The tensor of a hook; a name that was not kept throws, naming the nearest kept one. */
  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) {
      const near = nearest(name, this.tensors.keys());
      throw new HookError("UNKNOWN_HOOK", `"${name}" is not in this cache (${this.tensors.size} hooks kept)${near ? ` — did you mean "${near}"?` : ""}`, { got: name, suggestion: near });
    }
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  entries(): IterableIterator<[string, Tensor]> {
    return this.tensors.entries();
  }

  get size(): number {
    return this.tensors.size;
  }
}
