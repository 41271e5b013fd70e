// Schema-aware completion: work out what the cursor is inside of (a
// selection set of some type, a field's arguments, an input object, a
// variable's type, an argument value) by walking the tokens before it, then
// list what may go there.

import { lex } from "./lexer.js";
import { namedType, typeString } from "./schema.js";

const wordChar = /[_A-Za-z0-9]/;

// context describes the position at offset; null inside strings or comments.
export function contextAt(schema, text, offset) {
  let from = offset;
  while (from > 0 && wordChar.test(text[from - 1])) from--;
  const prefix = text.slice(from, offset);
  const isVar = from > 0 && text[from - 1] === "$";
  const toks = lex(text);
  for (const t of toks) {
    // A comment runs to the end of its line, so the cursor at its end is still inside it.
    if ((t.kind === "string" || t.kind === "comment") && t.start < offset && (offset < t.end || ((t.open || t.kind === "comment") && offset === t.end))) return null;
  }
  const before = toks.filter((t) => t.end <= (isVar ? from - 1 : from) && t.kind !== "comment");

  // Frames: doc, select{type}, args{args, used, expect, arg}, object{type,
  // used, expect, field}, list{item}, vardefs{expect}.
  const stack = [{ kind: "doc", op: null, fragmentOn: null }];
  const top = () => stack[stack.length - 1];
  const valueDone = () => {
    const f = top();
    if (f.kind === "args" || f.kind === "object") f.expect = "name";
  };
  let pending = null; // what the previous tokens set up: {spread}, {on}, {typeCond: name}, {directive}, {fragmentName}, {fragmentOn}
  for (let k = 0; k < before.length; k++) {
    const t = before[k];
    const f = top();
    const v = t.value;
    switch (f.kind) {
      case "doc":
        if (t.kind === "name" && ["query", "mutation", "subscription"].includes(v)) { f.op = v; f.fragmentOn = null; pending = null; }
        else if (t.kind === "name" && v === "fragment") { f.op = "fragment"; pending = { fragmentName: true }; }
        else if (t.kind === "name" && pending && pending.fragmentName) pending = { fragmentOnKeyword: true };
        else if (t.kind === "name" && v === "on" && pending && pending.fragmentOnKeyword) pending = { fragmentOn: true };
        else if (t.kind === "name" && pending && pending.fragmentOn) { f.fragmentOn = v; pending = null; }
        else if (v === "(" && t.kind === "punct") stack.push({ kind: "vardefs", expect: "var" });
        else if (v === "{" && t.kind === "punct") {
          const type = f.op === "fragment" ? f.fragmentOn : schema.rootFor(f.op || "query");
          stack.push({ kind: "select", type, last: null });
          f.op = null; f.fragmentOn = null; pending = null;
        }
        break;
      case "vardefs":
        if (t.kind === "var") f.expect = "colon";
        else if (v === ":") f.expect = "type";
        else if (t.kind === "name" && f.expect === "type") f.expect = "after";
        else if (v === "=") f.expect = "default";
        else if (v === ")") stack.pop();
        break;
      case "select":
        if (t.kind === "spread") { pending = { spread: true }; break; }
        if (t.kind === "name" && v === "on" && pending && pending.spread) { pending = { on: true }; break; }
        if (t.kind === "name" && pending && pending.on) { pending = { typeCond: v }; break; }
        if (t.kind === "name" && pending && pending.spread) { pending = null; break; } // a named fragment spread
        if (v === "@") { pending = { directive: true }; break; }
        if (t.kind === "name" && pending && pending.directive) { pending = { directiveArgs: true }; break; }
        if (v === ":") { f.last = null; pending = { alias: true }; break; }
        if (t.kind === "name") {
          f.last = schema.field(f.type, v);
          pending = null;
          break;
        }
        if (v === "(") {
          const args = pending && pending.directiveArgs ? [] : (f.last ? f.last.args : []);
          stack.push({ kind: "args", args, used: new Set(), expect: "name", arg: null });
          pending = null;
          break;
        }
        if (v === "{") {
          const type = pending && pending.typeCond ? pending.typeCond : (pending && pending.spread ? f.type : (f.last ? namedType(f.last.type) : null));
          stack.push({ kind: "select", type, last: null });
          pending = null;
          break;
        }
        if (v === "}") { stack.pop(); pending = null; }
        break;
      case "args":
      case "object": {
        const closer = f.kind === "args" ? ")" : "}";
        if (v === closer) { stack.pop(); valueDone(); break; }
        if (f.expect === "name" && t.kind === "name") {
          f.used.add(v);
          f.arg = f.kind === "args" ? (f.args || []).find((a) => a.name === v) || null : schema.inputField(f.type, v);
          f.expect = "colon";
          break;
        }
        if (v === ":" && f.expect === "colon") { f.expect = "value"; break; }
        if (f.expect === "value") {
          if (v === "{") { stack.push({ kind: "object", type: f.arg ? namedType(f.arg.type) : null, used: new Set(), expect: "name", arg: null }); break; }
          if (v === "[") { stack.push({ kind: "list", item: f.arg ? f.arg.type : null }); break; }
          f.expect = "name";
        }
        break;
      }
      case "list":
        if (v === "]") { stack.pop(); valueDone(); break; }
        if (v === "{") stack.push({ kind: "object", type: namedType(f.item), used: new Set(), expect: "name", arg: null });
        else if (v === "[") stack.push({ kind: "list", item: unwrapList(f.item) });
        break;
    }
  }
  return { frame: top(), pending, prefix, from, isVar };
}

function unwrapList(ref) {
  while (ref && ref.kind === "NON_NULL") ref = ref.ofType;
  return ref && ref.kind === "LIST" ? ref.ofType : ref;
}

// suggest lists completion items {label, detail, doc, insert} for offset,
// best matches first, and the range [from, offset) they replace.
export function suggest(schema, text, offset) {
  if (!schema) return null;
  const ctx = contextAt(schema, text, offset);
  if (!ctx) return null;
  if (ctx.isVar) {
    // After $ in a value: the variables the document declares ($name: Type).
    const toks = lex(text);
    const seen = new Map();
    toks.forEach((t, i) => {
      const next = toks[i + 1];
      if (t.kind !== "var" || !next || next.value !== ":" || seen.has(t.value.slice(1))) return;
      let type = "";
      for (let k = i + 2, named = false; k < toks.length; k++) {
        const x = toks[k];
        if (x.kind === "punct" && (x.value === "[" || x.value === "]" || x.value === "!")) type += x.value;
        else if (x.kind === "name" && !named) { type += x.value; named = true; }
        else break;
      }
      seen.set(t.value.slice(1), type);
    });
    const p = ctx.prefix.toLowerCase();
    return { from: ctx.from, items: [...seen].filter(([n]) => n.toLowerCase().startsWith(p) && n !== ctx.prefix).map(([n, type]) => ({ label: n, detail: type })) };
  }
  const { frame: f, pending, prefix } = ctx;
  let items = [];
  const fieldItem = (x) => ({ label: x.name, detail: typeString(x.type), doc: x.description || "", deprecated: x.isDeprecated });
  switch (f.kind) {
    case "doc":
      if (pending && pending.fragmentOnKeyword) items = [{ label: "on", detail: "keyword" }];
      else if (pending && pending.fragmentOn) items = typeNames(schema, ["OBJECT", "INTERFACE", "UNION"]);
      else if (!pending) items = ["query", "mutation", "subscription", "fragment"].map((k) => ({ label: k, detail: "keyword" }));
      break;
    case "vardefs":
      if (f.expect === "type") items = typeNames(schema, ["INPUT_OBJECT", "SCALAR", "ENUM"]);
      break;
    case "select": {
      if (pending && pending.spread) { items = [{ label: "on", detail: "inline fragment" }]; break; }
      if (pending && pending.on) { items = conditionTypes(schema, f.type); break; }
      if (pending && pending.directive) { items = [{ label: "include", detail: "directive" }, { label: "skip", detail: "directive" }]; break; }
      const t = schema.type(f.type);
      if (!t) break;
      items = (t.fields || []).map(fieldItem);
      items.push({ label: "__typename", detail: "String!", doc: "The name of the object's type." });
      break;
    }
    case "args":
    case "object":
      if (f.expect === "name") {
        const defs = f.kind === "args" ? f.args || [] : (schema.type(f.type) || {}).inputFields || [];
        items = defs.filter((a) => !f.used.has(a.name) || a.name.startsWith(prefix) && prefix.length === a.name.length).map(fieldItem);
      } else if (f.expect === "value" && f.arg) {
        items = valueItems(schema, f.arg.type);
      }
      break;
    case "list":
      items = valueItems(schema, unwrapList(f.item));
      break;
  }
  const p = prefix.toLowerCase();
  const starts = items.filter((i) => i.label.toLowerCase().startsWith(p));
  const contains = p ? items.filter((i) => !i.label.toLowerCase().startsWith(p) && i.label.toLowerCase().includes(p)) : [];
  const list = starts.concat(contains).filter((i) => i.label !== prefix || items.length > 1);
  return { from: ctx.from, items: list };
}

function valueItems(schema, ref) {
  const t = schema.type(namedType(ref));
  if (!t) return [];
  if (t.kind === "ENUM") return (t.enumValues || []).map((e) => ({ label: e.name, detail: t.name, doc: e.description || "", deprecated: e.isDeprecated }));
  if (t.name === "Boolean") return [{ label: "true", detail: "Boolean" }, { label: "false", detail: "Boolean" }];
  return [];
}

// conditionTypes lists the type conditions an inline fragment on a
// selection of typeName can use: the type itself, the interfaces and unions
// it belongs to, and an abstract type's possible types.
function conditionTypes(schema, typeName) {
  const all = typeNames(schema, ["OBJECT", "INTERFACE", "UNION"]);
  const t = schema.type(typeName);
  if (!t) return all;
  const names = new Set([t.name]);
  for (const p of t.possibleTypes || []) names.add(p.name);
  for (const a of schema.userTypes()) {
    if ((a.possibleTypes || []).some((p) => p.name === t.name)) names.add(a.name);
  }
  return all.filter((i) => names.has(i.label));
}

function typeNames(schema, kinds) {
  return schema.userTypes().filter((t) => kinds.includes(t.kind)).map((t) => ({ label: t.name, detail: t.kind.toLowerCase(), doc: t.description || "" }));
}
