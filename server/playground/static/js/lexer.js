// A GraphQL lexer good enough for an editor: it never throws, keeps
// comments (prettify must not drop them) and records offsets so that the
// completion code can tell what the cursor is inside of.

const punct = new Set(["{", "}", "(", ")", "[", "]", ":", "=", "!", "@", "|", "&"]);
const nameStart = /[_A-Za-z]/;
const nameChar = /[_A-Za-z0-9]/;

// lex returns tokens {kind, value, start, end}; kind is one of name, var,
// punct, spread, string, number, comment. An unterminated string runs to the
// end of its line (or the text, for a block string) and is flagged open.
export function lex(text) {
  const out = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "," || c === "\ufeff") { i++; continue; }
    const start = i;
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      out.push({ kind: "comment", value: text.slice(start, i), start, end: i });
      continue;
    }
    if (text.startsWith('"""', i)) {
      i += 3;
      let open = true;
      while (i < n) {
        if (text[i] === "\\" && text.startsWith('"""', i + 1)) { i += 4; continue; }
        if (text.startsWith('"""', i)) { i += 3; open = false; break; }
        i++;
      }
      out.push({ kind: "string", value: text.slice(start, i), start, end: i, open });
      continue;
    }
    if (c === '"') {
      i++;
      let open = true;
      while (i < n && text[i] !== "\n") {
        if (text[i] === "\\") { i += 2; continue; }
        if (text[i] === '"') { i++; open = false; break; }
        i++;
      }
      out.push({ kind: "string", value: text.slice(start, i), start, end: i, open });
      continue;
    }
    if (text.startsWith("...", i)) {
      i += 3;
      out.push({ kind: "spread", value: "...", start, end: i });
      continue;
    }
    if (c === "$") {
      i++;
      while (i < n && nameChar.test(text[i])) i++;
      out.push({ kind: "var", value: text.slice(start, i), start, end: i });
      continue;
    }
    if (nameStart.test(c)) {
      while (i < n && nameChar.test(text[i])) i++;
      out.push({ kind: "name", value: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      i++;
      while (i < n && /[0-9.eE+\-]/.test(text[i])) i++;
      out.push({ kind: "number", value: text.slice(start, i), start, end: i });
      continue;
    }
    if (punct.has(c)) {
      i++;
      out.push({ kind: "punct", value: c, start, end: i });
      continue;
    }
    i++; // anything else is skipped; the server reports real syntax errors
  }
  return out;
}

// operationAt returns the name of the operation whose definition contains
// offset (so a document with several operations runs the one being edited),
// or "" when that operation is anonymous.
export function operationAt(text, offset) {
  return operationInfoAt(text, offset).name;
}

// operationInfoAt is operationAt with the operation's kind: query,
// mutation or subscription.
export function operationInfoAt(text, offset) {
  let depth = 0;
  let name = "";
  let kind = "query";
  let keyword = false; // an operation keyword opened the current definition
  const toks = lex(text);
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.start > offset && depth === 0) break;
    if (t.kind === "punct" && (t.value === "{" || t.value === "(")) {
      if (depth === 0 && t.value === "{") {
        if (!keyword) { name = ""; kind = "query"; } // an anonymous shorthand query
        keyword = false;
      }
      depth++;
    } else if (t.kind === "punct" && (t.value === "}" || t.value === ")")) {
      depth--;
    } else if (depth === 0 && t.kind === "name" && ["query", "mutation", "subscription", "fragment"].includes(t.value)) {
      keyword = true;
      if (t.value !== "fragment") {
        const next = toks[k + 1];
        name = next && next.kind === "name" ? next.value : "";
        kind = t.value;
      }
    }
  }
  return { name, kind };
}

// operationNames lists the named operations in a document.
export function operationNames(text) {
  const names = [];
  let depth = 0;
  const toks = lex(text);
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind === "punct" && (t.value === "{" || t.value === "(")) depth++;
    else if (t.kind === "punct" && (t.value === "}" || t.value === ")")) depth--;
    else if (depth === 0 && t.kind === "name" && ["query", "mutation", "subscription"].includes(t.value)) {
      const next = toks[k + 1];
      if (next && next.kind === "name") names.push(next.value);
    }
  }
  return names;
}
