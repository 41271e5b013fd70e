// The playground page: wires the editors, the token, running, results,
// the schema explorer, history and examples together.

import { run, loadSchema } from "./graphql.js";
import { Schema } from "./schema.js";
import { attachCode, caretXY, replace } from "./editor.js";
import { suggest } from "./completion.js";
import { prettify } from "./format.js";
import { operationInfoAt } from "./lexer.js";
import { subscribe } from "./subscribe.js";
import { Explorer } from "./explorer.js";
import * as history from "./history.js";
import { h } from "./dom.js";
import { attachHighlight } from "./highlight.js";

const $ = (id) => document.getElementById(id);
const els = {
  query: $("query"), variables: $("variables"), token: $("token"), tokenToggle: $("token-toggle"),
  run: $("run"), prettify: $("prettify"), result: $("result"), errors: $("errors"), status: $("status"),
  varsError: $("vars-error"), completions: $("completions"), examples: $("tab-examples"),
  historyList: $("history-list"), historyClear: $("history-clear"),
};
const TOKEN_KEY = "tally.playground.token";
const DRAFT_KEY = "tally.playground.draft";

let schema = null;

const defaultQuery = `# Welcome to Tally. Paste an API token above, pick an example on the
# left or write a query; Ctrl+Space completes, Ctrl/Cmd+Enter runs.
query Viewer {
  viewer {
    tokenName
    scope
  }
}
`;

// ---- token: sessionStorage only, sent as a Bearer header ----------------
els.token.value = sessionStorage.getItem(TOKEN_KEY) || "";
els.token.addEventListener("input", () => {
  const v = els.token.value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
});
els.token.addEventListener("change", refreshSchema);
els.tokenToggle.addEventListener("click", () => {
  const show = els.token.type === "password";
  els.token.type = show ? "text" : "password";
  els.tokenToggle.textContent = show ? "hide" : "show";
});

// ---- editors ---------------------------------------------------------------
const draft = (() => { try { return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch { return null; } })();
els.query.value = (draft && draft.query) || defaultQuery;
els.variables.value = (draft && draft.variables) || "{}";
const saveDraft = () => {
  try { localStorage.setItem(DRAFT_KEY, JSON.stringify({ query: els.query.value, variables: els.variables.value })); } catch { /* storage full */ }
};
els.query.addEventListener("input", saveDraft);
els.variables.addEventListener("input", () => { saveDraft(); checkVariables(); });

function checkVariables() {
  const text = els.variables.value.trim();
  if (!text) { els.varsError.textContent = ""; return {}; }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("must be a JSON object");
    els.varsError.textContent = "";
    return v;
  } catch (err) {
    els.varsError.textContent = "invalid JSON: " + err.message;
    return undefined;
  }
}

// ---- completion popup --------------------------------------------------------
const completion = {
  items: [], index: 0, from: 0, open: false,
  isOpen() { return this.open; },
  close() { this.open = false; els.completions.hidden = true; },
  show(force) {
    const at = els.query.selectionStart;
    if (at !== els.query.selectionEnd) return this.close();
    const r = suggest(schema, els.query.value, at);
    if (!r || r.items.length === 0 || (!force && at === r.from)) return this.close();
    this.items = r.items.slice(0, 80);
    this.from = r.from;
    this.index = 0;
    this.open = true;
    this.render();
    const { x, y } = caretXY(els.query, r.from);
    els.completions.style.left = Math.max(4, x) + "px";
    els.completions.style.top = y + 2 + "px";
    els.completions.hidden = false;
  },
  render() {
    els.completions.replaceChildren(...this.items.map((it, i) => h("li", {
      role: "option", "aria-selected": String(i === this.index), dataset: { index: String(i) },
      onmousedown: (e) => { e.preventDefault(); this.index = i; this.accept(); },
    }, h("span", {}, h("span", { class: "clabel" }, it.label), it.doc ? h("span", { class: "cdoc" }, it.doc) : null), h("span", { class: "ctype" }, it.detail || ""))));
    const sel = els.completions.children[this.index];
    if (sel) sel.scrollIntoView({ block: "nearest" });
  },
  accept() {
    const it = this.items[this.index];
    if (!it) return;
    this.close();
    replace(els.query, this.from, els.query.selectionStart, it.label);
    saveDraft();
  },
  handleKey(e) {
    switch (e.key) {
      case "ArrowDown": this.index = (this.index + 1) % this.items.length; this.render(); break;
      case "ArrowUp": this.index = (this.index - 1 + this.items.length) % this.items.length; this.render(); break;
      case "Enter": case "Tab":
        if (e.ctrlKey || e.metaKey) return false;
        this.accept(); break;
      case "Escape": this.close(); break;
      default: return false;
    }
    e.preventDefault();
    return true;
  },
};
attachCode(els.query, { completion });
const rehighlight = attachHighlight(els.query, $("query-highlight"));
attachCode(els.variables);
els.query.addEventListener("input", (e) => {
  const typed = e.data || "";
  if (typed === "$") completion.show(true);
  else if (/^[_A-Za-z0-9]$/.test(typed) || completion.open) completion.show(false);
  else if (typed === "(" || typed === "{" || typed === " ") completion.close();
});
els.query.addEventListener("keydown", (e) => {
  if (e.key === " " && e.ctrlKey) { e.preventDefault(); completion.show(true); }
});
els.query.addEventListener("blur", () => completion.close());
els.query.addEventListener("click", () => completion.close());
els.query.addEventListener("scroll", () => completion.close());

// ---- running -------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); execute(); }
});
els.run.addEventListener("click", execute);
els.prettify.addEventListener("click", () => {
  const text = prettify(els.query.value);
  replace(els.query, 0, els.query.value.length, text, 0, 0);
  saveDraft();
});

let stopSubscription = null;

// curlCommand renders the current request for a shell; the token stays a
// variable so that a pasted command never carries the secret.
export function curlCommand(origin, query, variables, operationName) {
  const body = JSON.stringify({ query, variables, operationName: operationName || undefined });
  const quote = (s) => "'" + s.replace(/'/g, "'\\''") + "'";
  return `curl -s ${quote(origin + "/graphql")} \\\n  -H "Authorization: Bearer $TALLY_TOKEN" \\\n  -H 'Content-Type: application/json' \\\n  -d ${quote(body)}`;
}

$("copy-curl").addEventListener("click", async () => {
  const variables = checkVariables();
  if (variables === undefined) return;
  const query = els.query.value;
  const cmd = curlCommand(location.origin, query, variables, operationInfoAt(query, els.query.selectionStart).name);
  let copied = false;
  try { await navigator.clipboard.writeText(cmd); copied = true; } catch { copied = false; }
  els.status.className = "status";
  els.status.textContent = copied ? "copied a curl command (token as $TALLY_TOKEN)" : "copy failed: the command is in the result pane";
  if (!copied) { showErrors([]); els.result.textContent = cmd; }
});

async function execute() {
  completion.close();
  if (stopSubscription) { stopSubscription(); return; }
  const variables = checkVariables();
  if (variables === undefined) { els.variables.focus(); return; }
  const query = els.query.value;
  const op = operationInfoAt(query, els.query.selectionStart);
  const operationName = op.name || undefined;
  const token = els.token.value.trim();
  renderHistory(history.add({ query, variables: els.variables.value, label: operationName || firstField(query) }));
  els.status.className = "status";
  els.status.textContent = "running…";
  if (op.kind === "subscription") return runSubscription({ query, variables, operationName, token });
  els.run.disabled = true;
  const { status, ms, body } = await run({ query, variables, operationName, token });
  els.run.disabled = false;
  const errs = Array.isArray(body.errors) ? body.errors : [];
  els.status.className = "status " + (errs.length ? "bad" : "good");
  els.status.textContent = `HTTP ${status} · ${Math.round(ms)} ms` + (errs.length ? ` · ${errs.length} error${errs.length > 1 ? "s" : ""}` : "");
  showResult(body);
}

function showResult(body) {
  showErrors(Array.isArray(body.errors) ? body.errors : []);
  els.result.replaceChildren(...renderJSON(body, 0));
}

// runSubscription shows each event as it arrives; Run turns into Stop.
function runSubscription(req) {
  let count = 0;
  els.run.textContent = "■ Stop";
  els.run.classList.add("stop");
  showResult({});
  els.result.textContent = "connecting…";
  stopSubscription = subscribe(req, ({ type, payload }) => {
    switch (type) {
      case "open":
        els.status.textContent = "subscribed · waiting for events";
        els.result.textContent = "subscribed; events appear here as they arrive.";
        break;
      case "next":
        count++;
        els.status.className = "status " + (payload.errors ? "bad" : "good");
        els.status.textContent = `subscribed · ${count} event${count > 1 ? "s" : ""} · last at ${new Date().toLocaleTimeString()}`;
        showResult(payload);
        break;
      default: // error, complete, closed
        stopSubscription = null;
        els.run.textContent = "▶ Run";
        els.run.classList.remove("stop");
        if (type === "error") {
          els.status.className = "status bad";
          els.status.textContent = "subscription failed";
          showResult(payload);
        } else {
          els.status.textContent = `subscription ended · ${count} event${count === 1 ? "" : "s"}`;
        }
    }
  });
}

function firstField(query) {
  const m = query.replace(/#.*$/gm, "").match(/\{\s*([_A-Za-z][_A-Za-z0-9]*)/);
  return m ? m[1] : "query";
}

function showErrors(errs) {
  els.errors.hidden = errs.length === 0;
  els.errors.replaceChildren(...errs.map((e) => {
    const code = (e.extensions && e.extensions.code) || "ERROR";
    const rest = Object.assign({}, e.extensions || {});
    delete rest.code;
    return h("div", { class: "error code-" + String(code).replace(/[^A-Z_0-9]/gi, ""), dataset: { code } },
      h("span", { class: "code-badge" }, code), h("span", { class: "msg" }, e.message || ""),
      e.path ? h("div", { class: "path" }, "at " + e.path.join(".")) : null,
      Object.keys(rest).length ? h("div", { class: "ext" }, JSON.stringify(rest)) : null);
  }));
}

// renderJSON pretty-prints a value as coloured text nodes.
function renderJSON(v, depth) {
  const pad = "  ".repeat(depth);
  if (v === null) return [h("span", { class: "z" }, "null")];
  if (typeof v === "string") return [h("span", { class: "s" }, JSON.stringify(v))];
  if (typeof v === "number") return [h("span", { class: "n" }, String(v))];
  if (typeof v === "boolean") return [h("span", { class: "b" }, String(v))];
  if (Array.isArray(v)) {
    if (v.length === 0) return ["[]"];
    const out = ["[\n"];
    v.forEach((x, i) => { out.push(pad + "  ", ...renderJSON(x, depth + 1), i < v.length - 1 ? ",\n" : "\n"); });
    out.push(pad + "]");
    return out;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return ["{}"];
  const out = ["{\n"];
  keys.forEach((k, i) => { out.push(pad + "  ", h("span", { class: "k" }, JSON.stringify(k)), ": ", ...renderJSON(v[k], depth + 1), i < keys.length - 1 ? ",\n" : "\n"); });
  out.push(pad + "}");
  return out;
}

// ---- side panel: tabs, examples, history, schema ---------------------------
for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[role=tab]")) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      $("tab-" + t.dataset.tab).hidden = !on;
    }
  });
}

function load(query, variables) {
  els.query.value = query;
  rehighlight();
  els.variables.value = variables;
  saveDraft();
  checkVariables();
  els.query.focus();
  els.query.setSelectionRange(0, 0);
  els.query.scrollTop = 0;
}

async function loadExamples() {
  let list = [];
  try {
    const res = await fetch("/playground/examples.json", { credentials: "omit" });
    list = await res.json();
  } catch (err) {
    els.examples.replaceChildren(h("p", { class: "empty" }, "Could not load examples: " + err.message));
    return;
  }
  const groups = new Map();
  for (const ex of list) {
    if (!groups.has(ex.capability)) groups.set(ex.capability, []);
    groups.get(ex.capability).push(ex);
  }
  els.examples.replaceChildren(...[...groups].map(([cap, exs]) => h("div", { class: "example-group" },
    h("h3", {}, cap),
    exs.map((ex) => h("button", {
      type: "button", class: "example", dataset: { example: ex.name },
      onclick: () => load(ex.query, JSON.stringify(ex.variables || {}, null, 2)),
    }, ex.name, ex.description ? h("small", {}, ex.description) : null)))));
}

function renderHistory(list) {
  if (!list.length) { els.historyList.replaceChildren(h("li", { class: "empty" }, "Nothing run yet.")); return; }
  els.historyList.replaceChildren(...list.map((e) => h("li", {},
    h("button", { type: "button", onclick: () => load(e.query, e.variables) }, e.label, h("small", {}, new Date(e.at).toLocaleString())))));
}
els.historyClear.addEventListener("click", () => { history.clear(); renderHistory([]); });

const explorer = new Explorer({ body: $("schema-body"), crumbs: $("schema-crumbs"), search: $("schema-search") });

async function refreshSchema() {
  try {
    schema = new Schema(await loadSchema(els.token.value.trim()));
    explorer.setSchema(schema);
  } catch (err) {
    schema = null;
    explorer.setError(err.message);
  }
}

renderHistory(history.load());
checkVariables();
loadExamples();
refreshSchema();
document.body.dataset.ready = "true";
