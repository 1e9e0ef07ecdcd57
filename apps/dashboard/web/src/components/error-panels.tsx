import type { ErrorPanel } from "../../../src/api/run-types.ts";

/** One panel per problem: the file (and field) it concerns and what went wrong. The rest of the page still renders. */
export function ErrorPanels({ errors }: { errors: ErrorPanel[] }) {
  if (errors.length === 0) return null;
  return (
    <div class="error-panels">
      {errors.map((error, i) => (
        <section class="error-panel" data-testid="error-panel" role="alert" key={`${error.file}-${i}`}>
          <p class="error-file">
            <span class="error-badge">Error</span> <code>{error.file}</code>
            {error.field ? (
              <>
                {" "}
                · field <code>{error.field}</code>
              </>
            ) : null}
          </p>
          <p class="error-message">{error.message}</p>
        </section>
      ))}
    </div>
  );
}
