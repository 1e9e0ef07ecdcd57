/** "server": the dashboard's HTTP API answers; "static": an export read from disk (data/*.js scripts). */
export type DashboardMode = "server" | "static";

declare global {
  interface Window {
    __DIFFLENS_MODE__?: DashboardMode;
  }
}

export function dashboardMode(): DashboardMode {
  return window.__DIFFLENS_MODE__ === "static" ? "static" : "server";
}
