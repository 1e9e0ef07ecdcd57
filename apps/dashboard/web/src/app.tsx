import { useEffect, useState } from "preact/hooks";
import { AsyncView } from "./components/async-view.tsx";
import { api } from "./data/api.ts";
import { dashboardMode } from "./data/mode.ts";
import { useAsync } from "./data/use-async.ts";
import { FeaturePage } from "./pages/feature-page.tsx";
import { LivePage } from "./pages/live-page.tsx";
import { RunListPage } from "./pages/run-list.tsx";
import { RunPage } from "./pages/run-page.tsx";
import { href, parseHash, type Route } from "./router.ts";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseHash(location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** The browser tab's title per page, so history and screen readers name where they are. */
function pageTitle(route: Route): string {
  switch (route.page) {
    case "runs":
      return "Runs";
    case "run":
      return route.run;
    case "live":
      return `Live · ${route.run}`;
    case "feature":
      return `Latent ${route.latent} (${route.stage}) · ${route.run}`;
    case "not-found":
      return "Not found";
  }
}

/** The shell: header with the site link, one main landmark with the page, hash routing. */
export function App() {
  const route = useRoute();
  useEffect(() => {
    document.title = `${pageTitle(route)} · difflens dashboard`;
  }, [route]);
  const runs = useAsync(() => api.runs(), []);
  // While the run list loads, the live box shows; the server answers LIVE_UNAVAILABLE if it cannot run models.
  const live = dashboardMode() === "server" && (runs.status !== "ok" || runs.value.live);
  return (
    <>
      <header class="site-header">
        <nav aria-label="Site">
          <a class="brand" href={href.runs()}>
            difflens dashboard
          </a>
          {"run" in route ? (
            <a href={href.run(route.run)} class="crumb">
              {route.run}
            </a>
          ) : null}
        </nav>
        {dashboardMode() === "static" ? <span class="mode-note">static export</span> : null}
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === "runs" ? (
          <AsyncView state={runs} request="api/runs" pageHeading="Runs">
            {(list) => <RunListPage list={list} />}
          </AsyncView>
        ) : route.page === "run" ? (
          <RunPage run={route.run} live={live} key={route.run} />
        ) : route.page === "live" ? (
          <LivePage run={route.run} live={live} />
        ) : route.page === "feature" ? (
          <FeaturePage
            run={route.run}
            stage={route.stage}
            latent={route.latent}
            key={`${route.run}/${route.stage}/${route.latent}`}
          />
        ) : (
          <>
            <h1>Page not found</h1>
            <p>
              Nothing lives at <code>{route.hash}</code>. <a href={href.runs()}>Back to the run list</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}
