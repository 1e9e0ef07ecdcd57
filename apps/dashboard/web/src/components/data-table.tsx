import type { ComponentChildren } from "preact";

/** A captioned table that scrolls sideways on narrow screens instead of overflowing the page. */
export function DataTable(props: {
  caption: ComponentChildren;
  columns: string[];
  rows: ComponentChildren[][];
  numeric?: boolean[];
}) {
  return (
    <div class="table-scroll">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column, i) => (
              <th scope="col" class={props.numeric?.[i] ? "num" : undefined} key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) => (
                <td class={props.numeric?.[c] ? "num" : undefined} key={c}>
                  {cell}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
