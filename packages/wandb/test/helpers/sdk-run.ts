// Drive the real @wandb/sdk 0.5.1 through a short run against a server at $WANDB_BASE_URL.
// Used to record the committed transcript and, in the tests, to prove the fake server accepts the SDK.
import wandb from "@wandb/sdk";

export async function runSdkShortRun(): Promise<void> {
  const sdk = wandb as unknown as {
    init(options: Record<string, unknown>): Promise<unknown>;
    log(data: Record<string, unknown>, step?: number): void;
    finish(code?: number): Promise<void>;
  };
  await sdk.init({
    project: "sdk-transcript",
    id: "sdkrun01",
    name: "sdk short run",
    config: { lr: 0.001, layers: 2 },
  });
  for (let step = 0; step < 3; step++) sdk.log({ loss: 1 / (step + 1), acc: step / 3 }, step);
  await sdk.finish(0);
}
