/**
 * The dashboard's one HTML page, written by the server and by the static export (vite writes no HTML), so the same
 * classic-script bundle works over HTTP and from file://. Relative URLs only: the page works under any base path.
 */
export type PageMode = "server" | "static";

export function indexHtml(mode: PageMode, title = "difflens dashboard"): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="stylesheet" href="assets/dashboard.css">',
    "</head>",
    "<body>",
    '<div id="app"></div>',
    `<script>window.__DIFFLENS_MODE__ = ${JSON.stringify(mode)}</script>`,
    '<script src="assets/dashboard.js"></script>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
