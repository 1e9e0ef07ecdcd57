// @difflens/wandb: Weights & Biases tracking with a durable local run folder and sync.
export {};
