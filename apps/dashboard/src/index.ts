// dashboard: a local web app over difflens run folders.
export * from "./api/diffing-types.ts";
export * from "./api/live-types.ts";
export * from "./api/readouts-types.ts";
export * from "./api/routes.ts";
export * from "./api/run-types.ts";
export { DashboardError, type DashboardErrorCode, HTTP_STATUS } from "./errors.ts";
