/** The config field readers of @difflens/app-kit, bound to the app's error class (config errors are ReadoutsErrors). */
import { configFields } from "@difflens/app-kit";
import { ReadoutsError } from "./errors.ts";

export const fields = configFields(ReadoutsError);
export { deepFreeze } from "@difflens/app-kit";
