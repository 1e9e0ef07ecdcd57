export { editDistance, nearest, didYouMean } from "@difflens/common"; // moved: import from @difflens/common
