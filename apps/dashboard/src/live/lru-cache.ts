/**
 * A small least-recently-used cache of values that are loaded asynchronously and hold memory (models, SAEs): a key
 * asked for while its load is still running shares that load; past `capacity` entries the least recently used one is
 * dropped and disposed. A failed load is forgotten, so the next request tries again.
 */
export class LruCache<V> {
  readonly #entries = new Map<string, Promise<V>>();

  constructor(
    readonly capacity: number,
    private readonly dispose: (value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LruCache: capacity must be an integer ≥ 1, got ${capacity}`);
  }

  /** The cached value of `key`, else `load()`'s (cached). Evicts before loading, so at most `capacity` are held. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Map order is insertion order: re-inserting marks the key as the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    while (this.#entries.size >= this.capacity) this.#evict(this.#entries.keys().next().value!);
    const pending = load();
    this.#entries.set(key, pending);
    pending.catch(() => {
      if (this.#entries.get(key) === pending) this.#entries.delete(key);
    });
    return pending;
  }

  get size(): number {
    return this.#entries.size;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.#evict(key);
  }

  #evict(key: string): void {
    const value = this.#entries.get(key);
    this.#entries.delete(key);
    value?.then(this.dispose, () => {});
  }
}
