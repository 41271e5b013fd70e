// Syntax colouring for the query editor: a <pre> under a textarea whose
// own text is transparent. Both use the same font and padding, so the
// coloured copy lines up with what is typed; scrolling is mirrored.

import { lex } from "./lexer.js";

const keywords = new Set(["query", "mutation", "subscription", "fragment", "on", "true", "false", "null"]);

export function attachHighlight(ta, pre) {
  const render = () => {
    const text = ta.value;
    const frag = document.createDocumentFragment();
    let at = 0;
    let prev = null;
    for (const t of lex(text)) {
      if (t.start > at) frag.append(text.slice(at, t.start));
      const span = document.createElement("span");
      span.className = "tok-" + classOf(t, prev);
      span.textContent = text.slice(t.start, t.end);
      frag.append(span);
      at = t.end;
      if (t.kind !== "comment") prev = t;
    }
    frag.append(text.slice(at) + "\n\n");
    pre.replaceChildren(frag);
    sync();
  };
  const sync = () => {
    pre.scrollTop = ta.scrollTop;
    pre.scrollLeft = ta.scrollLeft;
  };
  ta.addEventListener("input", render);
  ta.addEventListener("scroll", sync);
  ta.classList.add("has-highlight");
  render();
  return render;
}

function classOf(t, prev) {
  switch (t.kind) {
    case "name":
      if (keywords.has(t.value)) return "kw";
      if (prev && prev.kind === "punct" && prev.value === "@") return "dir";
      if (/^[A-Z]/.test(t.value) && prev && (prev.value === ":" || prev.value === "[" || prev.value === "on")) return "type";
      if (prev && prev.kind === "name" && ["query", "mutation", "subscription", "fragment"].includes(prev.value)) return "def";
      return "name";
    case "var": return "var";
    case "string": return "str";
    case "number": return "num";
    case "comment": return "com";
    default: return "punct";
  }
}
