// prettify re-indents a GraphQL document: one selection per line, arguments
// and values kept on the line of their field, comments kept.

import { lex } from "./lexer.js";

export function prettify(text) {
  const toks = lex(text);
  let out = "";
  let indent = 0;
  let paren = 0; // depth of () and of {} / [] opened inside them
  const inlineStack = [];
  const nl = () => { out = out.replace(/[ \t]+$/, ""); if (out && !out.endsWith("\n")) out += "\n"; out += "  ".repeat(indent); };
  let prev = null;
  for (const t of toks) {
    const v = t.value;
    if (t.kind === "comment") {
      if (out && !/\n\s*$/.test(out)) out += " ";
      out += v;
      nl();
      prev = null;
      continue;
    }
    if (paren > 0) {
      if (v === "(" || v === "[" || (v === "{" && t.kind === "punct")) {
        if (needsComma(prev)) out += ", ";
        out += v; paren++; inlineStack.push(v);
      } else if (v === ")" || v === "]" || (v === "}" && t.kind === "punct")) {
        out += v; paren--; inlineStack.pop();
      } else if (v === ":" ) out += ": ";
      else if (v === "=") out += " = ";
      else if (v === "!" || v === "@") out += v;
      else {
        if (needsComma(prev)) out += ", ";
        else if (prev && prev.value === "@") { /* directive name */ }
        out += v;
      }
      prev = t;
      continue;
    }
    if (t.kind === "punct" && v === "{") {
      out = out.replace(/[ \t]+$/, "");
      out += out && !out.endsWith("\n") ? " {" : "{";
      indent++;
      nl();
    } else if (t.kind === "punct" && v === "}") {
      indent = Math.max(0, indent - 1);
      nl();
      out += "}";
      if (indent === 0) out += "\n";
    } else if (t.kind === "punct" && v === "(") {
      out += "("; paren++; inlineStack.push("(");
    } else if (v === ":") {
      out += ": ";
    } else if (v === "@") {
      out += " @";
    } else if (t.kind === "spread") {
      if (indent > 0) nl();
      out += "...";
    } else if (indent === 0) {
      // Definitions: "query Name", "fragment F on T".
      if (prev && prev.kind === "punct" && prev.value === "}") out += "\n";
      if (out && !out.endsWith("\n") && !out.endsWith(" ")) out += " ";
      out += v;
    } else {
      const glue = prev && ((prev.kind === "punct" && (prev.value === ":" || prev.value === "@")) || prev.kind === "spread");
      const sameLine = prev && (prev.value === "on" || (prev.kind === "spread" && v === "on"));
      if (glue) out += prev.kind === "spread" && v === "on" ? " " + v : v;
      else if (sameLine) out += " " + v;
      else if (prev && prev.kind === "punct" && prev.value === "{") out += v;
      else { nl(); out += v; }
    }
    prev = t;
  }
  return out.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim() + "\n";
}

function needsComma(prev) {
  if (!prev) return false;
  if (prev.kind === "punct") return prev.value === "]" || prev.value === "}" || prev.value === ")" || prev.value === "!";
  return prev.kind === "name" || prev.kind === "number" || prev.kind === "string" || prev.kind === "var";
}
