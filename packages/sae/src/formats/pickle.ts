import { SaeError } from "../errors.ts";
import { PyGlobal, PyStorageRef, PyTensorRef, PyTuple, type PyValue, type TorchDType } from "./pickle-values.ts";

/**
 * A pickle reader (protocols 2–5) that never runs code: it evaluates the opcode stream into plain
 * values and accepts only the globals a torch state dict needs — an ordered dict, the tensor/parameter
 * rebuild functions and the typed storage classes. Any other global is refused by name. Hand-written
 * because Node has no pickle reader, and a general one would be the code-execution hole this avoids.
 */
const STORAGE_TYPES: Record<string, TorchDType> = {
  FloatStorage: "f32",
  DoubleStorage: "f64",
  HalfStorage: "f16",
  BFloat16Storage: "bf16",
  LongStorage: "i64",
  IntStorage: "i32",
  ShortStorage: "i16",
  CharStorage: "i8",
  ByteStorage: "u8",
  BoolStorage: "bool",
};

/** The classes and functions a state dict may name. */
export const PICKLE_ALLOW_LIST: readonly string[] = Object.freeze([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
]);

const MARK = Symbol("mark");
type StackItem = PyValue | typeof MARK;

export function readPickle(bytes: Uint8Array, file = "<pickle>"): PyValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder("utf-8", { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  const bad = (why: string): never => {
    throw new SaeError("PICKLE_INVALID", `${file}: invalid pickle at byte ${pos}: ${why}`, { file, offset: pos });
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) bad(`needs ${n} more bytes, ${bytes.length - pos} left (truncated?)`);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => dv.getUint16(need(2), true);
  const u32 = () => dv.getUint32(need(4), true);
  const u64 = () => {
    const v = dv.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad("length too large");
    return Number(v);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) bad("stack underflow");
    if (v === MARK) bad("unexpected mark");
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) bad("stack underflow");
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      const v = stack.pop();
      if (v === undefined) bad("mark not found");
      if (v === MARK) return items.reverse();
      items.push(v as PyValue);
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) bad("unterminated text line");
    const s = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const p = need(n);
    try {
      return dec.decode(bytes.subarray(p, p + n));
    } catch {
      return bad("string is not UTF-8");
    }
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!PICKLE_ALLOW_LIST.includes(q)) {
      throw new SaeError(
        "PICKLE_FORBIDDEN_CLASS",
        `${file}: pickle names ${q}, which is not in the allow-list (${PICKLE_ALLOW_LIST.join(", ")}); refusing to load`,
        { file, field: q },
      );
    }
    return new PyGlobal(module, name);
  };
  const setItems = (dict: PyValue, items: PyValue[]) => {
    if (!(dict instanceof Map)) bad("SETITEM(S) on a non-dict");
    if (items.length % 2) bad("odd number of dict items");
    for (let i = 0; i < items.length; i += 2) (dict as Map<PyValue, PyValue>).set(items[i]!, items[i + 1]!);
  };
  const appendTo = (list: PyValue, items: PyValue[]) => {
    if (!Array.isArray(list)) bad("APPEND(S) on a non-list");
    (list as PyValue[]).push(...items);
  };

  while (pos < bytes.length) {
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME
      case 0x2e: {
        // STOP
        const v = pop();
        return v;
      }
      case 0x28:
        stack.push(MARK);
        break;
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x63: {
        const m = line();
        const n = line();
        stack.push(global(m, n));
        break;
      } // GLOBAL
      case 0x93: {
        const n = pop(),
          m = pop();
        if (typeof m !== "string" || typeof n !== "string") bad("STACK_GLOBAL needs two strings");
        stack.push(global(m as string, n as string));
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) bad(`memo key ${i} not set`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x29:
        stack.push(new PyTuple([]));
        break;
      case 0x74:
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: {
        const a = pop();
        stack.push(new PyTuple([a]));
        break;
      }
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: {
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const items = popMark();
        const m = new Map<PyValue, PyValue>();
        setItems(m, items);
        stack.push(m);
        break;
      }
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x4a:
        stack.push(dv.getInt32(need(4), true));
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
      case 0x8b: {
        // LONG1 / LONG4: little-endian two's complement
        const n = op === 0x8a ? u8() : u32();
        if (n > 64) bad(`integer of ${n} bytes is too large`);
        const p = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]!);
        if (n > 0 && bytes[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47:
        stack.push(dv.getFloat64(need(8), false));
        break; // BINFLOAT
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(text(u64()));
        break; // BINUNICODE8
      case 0x54:
      case 0x55: {
        const n = op === 0x54 ? dv.getInt32(need(4), true) : u8();
        const p = need(n);
        stack.push(new TextDecoder("latin1").decode(bytes.subarray(p, p + n)));
        break;
      }
      case 0x42:
      case 0x43: {
        const n = op === 0x42 ? u32() : u8();
        const p = need(n);
        stack.push(bytes.slice(p, p + n));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        stack.push(storageFromPid(pid, bad));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop(),
          fn = pop();
        if (!(fn instanceof PyGlobal)) bad("REDUCE of a non-callable");
        if (!(args instanceof PyTuple)) bad("REDUCE arguments are not a tuple");
        stack.push(callAllowed(fn as PyGlobal, (args as PyTuple).items, bad));
        break;
      }
      case 0x62: {
        pop();
        top();
        break;
      } // BUILD: state (e.g. OrderedDict _metadata) is ignored
      default:
        bad(`unsupported opcode 0x${op.toString(16).padStart(2, "0")}`);
    }
  }
  return bad("no STOP opcode (truncated?)");
}

function storageFromPid(pid: PyValue, bad: (why: string) => never): PyStorageRef {
  if (!(pid instanceof PyTuple)) return bad("persistent id is not a tuple");
  const [kind, type, key, location, numel] = pid.items;
  if (kind !== "storage") return bad(`persistent id kind ${JSON.stringify(kind)} is not "storage"`);
  if (!(type instanceof PyGlobal) || !(type.name in STORAGE_TYPES)) return bad("persistent id names no storage type");
  if (
    typeof key !== "string" ||
    typeof location !== "string" ||
    typeof numel !== "number" ||
    !Number.isInteger(numel) ||
    numel < 0
  )
    return bad("malformed storage persistent id");
  return new PyStorageRef(STORAGE_TYPES[type.name]!, key, location, numel);
}

function intList(v: PyValue, what: string, bad: (why: string) => never): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) return bad(`${what} is not a tuple`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x) =>
    typeof x === "number" && Number.isInteger(x) && x >= 0 ? x : bad(`${what} holds a non-integer`),
  );
}

function callAllowed(fn: PyGlobal, args: PyValue[], bad: (why: string) => never): PyValue {
  switch (fn.qualified) {
    case "collections.OrderedDict":
      return new Map();
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof PyStorageRef)) return bad("_rebuild_tensor_v2: first argument is not a storage");
      if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0)
        return bad("_rebuild_tensor_v2: bad storage offset");
      const shape = intList(size ?? null, "tensor size", bad),
        strides = intList(stride ?? null, "tensor stride", bad);
      if (shape.length !== strides.length) return bad("_rebuild_tensor_v2: size and stride differ in length");
      return new PyTensorRef(storage, offset, shape, strides);
    }
    case "torch._utils._rebuild_parameter": {
      const data = args[0];
      if (!(data instanceof PyTensorRef)) return bad("_rebuild_parameter: data is not a tensor");
      return data;
    }
    default:
      return bad(`${fn.qualified} is not callable`);
  }
}
