// Placeholder entry; the web client (pages, router, data layer) is written in web/src/.
import { render } from "preact";

render(<p>difflens dashboard</p>, document.getElementById("app")!);
