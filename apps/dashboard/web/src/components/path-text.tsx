/**
 * A path with line-break opportunities after each "/" (`<wbr>`, so copying it copies the path unchanged): in a
 * narrow table cell it wraps between folders rather than inside a name.
 */
export function PathText({ text }: { text: string }) {
  const parts = text.split("/");
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {part}
          {i < parts.length - 1 ? (
            <>
              /<wbr />
            </>
          ) : null}
        </span>
      ))}
    </>
  );
}
