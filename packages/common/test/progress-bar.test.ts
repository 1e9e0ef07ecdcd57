import { describe, expect, it } from "vitest";
import { clock, compactNumber, ProgressBar } from "../src/index.ts";

function sink(isTTY: boolean): { isTTY: boolean; text: string[]; write(t: string): void } {
  return {
    isTTY,
    text: [],
    write(t) {
      this.text.push(t);
    },
  };
}

describe("ProgressBar", () => {
  it("draws label, bar, percent, counts with unit, rate, ETA and the extra text", () => {
    const bar = new ProgressBar({ label: "S  ", total: 4000, unit: "tok", stream: sink(false) });
    const line = bar.line(1000, "loss 0.1000", performance.now() + 1000);
    expect(line).toMatch(/^S {3}█{6}░{18} {2}25% 1\.0k\/4\.0k tok [\d.]+k? tok\/s ETA 00:0\d loss 0\.1000$/);
  });

  it("redraws in place on a TTY and prints plain lines elsewhere; done always prints", () => {
    const tty = sink(true);
    const onTty = new ProgressBar({ label: "x", total: 10, stream: tty, minIntervalMs: 0 });
    onTty.update(5);
    onTty.done(10);
    expect(tty.text[0]).toMatch(/^\rx .* 50% 5\/10 .*\x1b\[K$/);
    expect(tty.text[1]).toMatch(/^\rx .*100% 10\/10 .*\x1b\[K\n$/);
    const plain = sink(false);
    const inLog = new ProgressBar({ label: "x", total: 10, stream: plain, plainIntervalMs: 1e9 });
    inLog.update(5); // within the interval: nothing
    inLog.update(6, "", true);
    inLog.done(10);
    expect(plain.text.length).toBe(2);
    expect(plain.text.every((t) => t.endsWith("\n") && !t.includes("\r"))).toBe(true);
  });

  it("leaves a resumed run's earlier count out of the rate", () => {
    const bar = new ProgressBar({ label: "x", total: 100, start: 90, stream: sink(false) });
    expect(bar.line(95, "", performance.now() + 1000)).toMatch(/ [45](\.\d)?\/s /);
  });
});

describe("number and time formats", () => {
  it.each([
    [950, "950"],
    [1234, "1.2k"],
    [3_400_000, "3.40M"],
    [1.05e9, "1.05G"],
    [Infinity, "?"],
  ])("compactNumber(%d) = %s", (n, text) => expect(compactNumber(n)).toBe(text));

  it.each([
    [59, "00:59"],
    [61, "01:01"],
    [3661, "1:01:01"],
    [NaN, "--:--"],
    [-1, "--:--"],
  ])("clock(%d) = %s", (s, t) => expect(clock(s)).toBe(t));
});
