// @difflens/data: Parquet datasets, token streams, masks and activation stores.
export {};
