/** The config field readers of @difflens/app-kit, bound to the app's error class (config errors are DiffingErrors). */
import { configFields } from "@difflens/app-kit";
import { DiffingError } from "../errors.ts";

export const fields = configFields(DiffingError);
export const { objectWithKeys, num, str, oneOf, bool, strList, numList } = fields;
export { deepFreeze } from "@difflens/app-kit";
