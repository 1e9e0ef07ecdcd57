import { describeValue, StatsError } from "./errors.ts";
import type { Sample } from "./samples.ts";

/** A dense row-major matrix: element (i, j) is data[i·cols + j]. Typed arrays keep big dictionaries cheap. */
export interface Matrix {
  readonly data: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}

/** Either a Matrix or an array of equal-length rows. */
export type MatrixInput = Matrix | readonly Sample[];

function isMatrix(x: unknown): x is Matrix {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "data" in x && "rows" in x && "cols" in x;
}

/** Validates shape and values (finite, no NaN) and returns a Matrix view. */
export function toMatrix(where: string, field: string, input: unknown): Matrix {
  let m: Matrix;
  if (isMatrix(input)) {
    const { data, rows, cols } = input;
    if (
      !Number.isSafeInteger(rows) ||
      !Number.isSafeInteger(cols) ||
      rows < 1 ||
      cols < 1 ||
      data.length !== rows * cols
    ) {
      throw new StatsError("LENGTH_MISMATCH", {
        where,
        field,
        expected: `data.length = rows·cols with rows, cols ≥ 1`,
        got: `rows ${rows}, cols ${cols}, data.length ${data?.length}`,
      });
    }
    m = input;
  } else if (Array.isArray(input) && input.length > 0) {
    const cols = (input[0] as Sample).length;
    const data = new Float64Array(input.length * cols);
    input.forEach((row: unknown, i: number) => {
      const r = row as Sample;
      if (!(Array.isArray(r) || ArrayBuffer.isView(r)) || r.length !== cols) {
        throw new StatsError("LENGTH_MISMATCH", {
          where,
          field: `${field}[${i}]`,
          expected: `a row of length ${cols}`,
          got: describeValue(r),
        });
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = r[j] as number;
    });
    if (cols < 1)
      throw new StatsError("EMPTY_SAMPLE", { where, field, expected: "rows of length ≥ 1", got: "empty rows" });
    m = { data, rows: input.length, cols };
  } else {
    throw new StatsError("EMPTY_SAMPLE", {
      where,
      field,
      expected: "a non-empty matrix (Matrix or array of rows)",
      got: describeValue(input),
    });
  }
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new StatsError(Number.isNaN(v) ? "NAN_IN_DATA" : "INVALID_ARGUMENT", {
        where,
        field: `${field}[${Math.floor(i / m.cols)}][${i % m.cols}]`,
        expected: "a finite number",
        got: String(v),
      });
    }
  }
  return m;
}
