import { render } from "preact";
import { App } from "./app.tsx";
import "./styles.css";

const root = document.getElementById("app");
if (root === null) throw new Error('The dashboard page has no <div id="app">.');
render(<App />, root);
