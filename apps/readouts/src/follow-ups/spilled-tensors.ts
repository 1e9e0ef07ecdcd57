/**
 * Tensors parked on disk instead of in memory: `patch --positions all` needs every layer's residual stream at every
 * position of every positive from the trained model while the comparator runs — about 46 GB at the seed's scale
 * (4 personas × ~100 positives × ~300 tokens × 28 layers × 3584 × 4 bytes), far past the 20 GB the run may hold.
 * One scratch file, appended as batches finish and read back one batch and layer at a time; removed by `close`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Tensor, toFloat32Array } from "@difflens/tensor";

export class SpilledTensors {
  private readonly folder: string;
  private readonly fd: number;
  private end = 0;
  private readonly index = new Map<string, { offset: number; shape: number[] }>();

  constructor(parent: string = os.tmpdir()) {
    this.folder = fs.mkdtempSync(path.join(parent, "difflens-spill-"));
    this.fd = fs.openSync(path.join(this.folder, "tensors.f32"), "w+");
  }

  put(key: string, tensor: Tensor): void {
    const data = toFloat32Array(tensor);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let done = 0; done < bytes.length; )
      done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.end + done);
    this.index.set(key, { offset: this.end, shape: [...tensor.shape] });
    this.end += bytes.length;
  }

  get(key: string): Tensor<"f32"> {
    const entry = this.index.get(key);
    if (entry === undefined) throw new Error(`SpilledTensors: nothing stored under "${key}"`);
    const data = new Float32Array(entry.shape.reduce((a, b) => a * b, 1));
    const bytes = new Uint8Array(data.buffer);
    for (let done = 0; done < bytes.length; ) {
      const read = fs.readSync(this.fd, bytes, done, bytes.length - done, entry.offset + done);
      if (read === 0) throw new Error(`SpilledTensors: the scratch file ended inside "${key}"`);
      done += read;
    }
    return new Tensor("f32", entry.shape, data);
  }

  /** Bytes parked so far. */
  get size(): number {
    return this.end;
  }

  close(): void {
    fs.closeSync(this.fd);
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}
