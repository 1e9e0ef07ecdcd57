/** The values the pickle reader (pickle.ts) evaluates an opcode stream into: plain data and torch references. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A storage reference from a persistent id: bytes live in the zip under data/<key>. */
export class PyStorageRef {
  constructor(
    readonly dtype: TorchDType,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}
/** A tensor view over a storage: element offset, shape, strides (in elements). */
export class PyTensorRef {
  constructor(
    readonly storage: PyStorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | Map<PyValue, PyValue>
  | PyGlobal
  | PyStorageRef
  | PyTensorRef;

export type TorchDType = "f32" | "f64" | "f16" | "bf16" | "i64" | "i32" | "i16" | "i8" | "u8" | "bool";
