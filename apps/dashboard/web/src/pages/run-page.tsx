import type { DiffingRunResponse } from "../../../src/api/diffing-types.ts";
import type { ReadoutsRunResponse } from "../../../src/api/readouts-types.ts";
import { AsyncView } from "../components/async-view.tsx";
import { api } from "../data/api.ts";
import { useAsync } from "../data/use-async.ts";
import { DiffingRunPage } from "./diffing-run.tsx";
import { ReadoutsRunPage } from "./readouts-run.tsx";

function isDiffing(response: DiffingRunResponse | ReadoutsRunResponse): response is DiffingRunResponse {
  return "stages" in response;
}

/** `#/run/<id>`: the diffing or readouts page, by what the server answered. */
export function RunPage({ run, live }: { run: string; live: boolean }) {
  const state = useAsync(() => api.run(run), [run]);
  return (
    <AsyncView state={state} request={`api/run?run=${run}`} pageHeading={`Run ${run}`}>
      {(response) =>
        isDiffing(response) ? <DiffingRunPage data={response} live={live} /> : <ReadoutsRunPage data={response} />
      }
    </AsyncView>
  );
}
