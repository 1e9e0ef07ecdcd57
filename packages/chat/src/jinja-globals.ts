/**
 * The globals transformers gives a chat template. @huggingface/jinja installs its own inside `Template.render`,
 * where its `raise_exception` throws a plain Error that cannot be told apart from an interpreter failure; we render
 * through `Interpreter` with our own set so a template's rejection keeps its own message and a class of its own.
 */

/** Thrown by a template's `raise_exception(message)`. */
export class TemplateRaise extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateRaise";
  }
}

/** Python's range(stop) / range(start, stop[, step]). */
export function pythonRange(...args: number[]): number[] {
  const [start, stop, step] =
    args.length === 1 ? [0, args[0] as number, 1] : [args[0] as number, args[1] as number, args[2] ?? 1];
  if (step === 0) throw new Error("range() arg 3 must not be zero");
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** strftime for the codes chat templates use (Llama 3 writes "%d %b %Y"). `now` is injectable for tests. */
export function strftime(format: string, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const codes: Record<string, string> = {
    Y: String(now.getFullYear()),
    m: pad(now.getMonth() + 1),
    d: pad(now.getDate()),
    B: MONTHS[now.getMonth()] as string,
    b: (MONTHS[now.getMonth()] as string).slice(0, 3),
    A: DAYS[now.getDay()] as string,
    a: (DAYS[now.getDay()] as string).slice(0, 3),
    H: pad(now.getHours()),
    M: pad(now.getMinutes()),
    S: pad(now.getSeconds()),
    "%": "%",
  };
  return format.replace(/%(.)/g, (whole, c: string) => codes[c] ?? whole);
}

/** The globals to declare before a render, keyed by name. */
export function templateGlobals(now: () => Date): Record<string, unknown> {
  return {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range: pythonRange,
    strftime_now: (format: string) => strftime(format, now()),
    raise_exception: (message: unknown) => {
      throw new TemplateRaise(String(message));
    },
  };
}
