import { href } from "../router.ts";
import { LiveBox } from "./live-box.tsx";

/** `#/run/<id>/live`: the live box on its own page. */
export function LivePage({ run, live }: { run: string; live: boolean }) {
  return (
    <>
      <h1>Live features</h1>
      <p class="lede">
        Run <a href={href.run(run)}>{run}</a>: each token's top latents, linked to their feature pages.
      </p>
      <LiveBox run={run} live={live} />
    </>
  );
}
