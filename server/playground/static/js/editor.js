// A textarea turned into a small code editor: two-space indentation that
// follows braces, bracket pairing, Tab/Shift+Tab, and a completion popup.
// Edits go through execCommand("insertText") where the browser has it so
// that undo (Ctrl+Z) keeps working.

const INDENT = "  ";
const pairs = { "{": "}", "(": ")", "[": "]", '"': '"' };
const closers = new Set(["}", ")", "]"]);

// replace puts text in place of [start, end) and selects [selStart, selEnd).
export function replace(ta, start, end, text, selStart, selEnd) {
  ta.focus();
  ta.setSelectionRange(start, end);
  let ok = false;
  try { ok = document.execCommand("insertText", false, text); } catch { ok = false; }
  if (!ok || ta.value.slice(start, start + text.length) !== text) {
    ta.setRangeText(text, start, end, "end");
    ta.dispatchEvent(new Event("input", { bubbles: true }));
  }
  const s = selStart ?? start + text.length;
  ta.setSelectionRange(s, selEnd ?? s);
}

function lineStart(v, i) { return v.lastIndexOf("\n", i - 1) + 1; }
function indentOf(v, i) {
  const ls = lineStart(v, i);
  let e = ls;
  while (v[e] === " " || v[e] === "\t") e++;
  return v.slice(ls, e);
}

// attachCode gives a textarea the editor behaviours; options.completion, if
// set, is an object with isOpen() and handleKey(e) that sees keys first.
export function attachCode(ta, options = {}) {
  ta.addEventListener("keydown", (e) => {
    if (options.completion && options.completion.isOpen() && options.completion.handleKey(e)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const v = ta.value;
    const s = ta.selectionStart;
    const end = ta.selectionEnd;
    if (e.key === "Enter") {
      e.preventDefault();
      const ind = indentOf(v, s);
      const prev = v.slice(lineStart(v, s), s).trimEnd().slice(-1);
      const next = v[end];
      if (pairs[prev] && prev !== '"' && next === pairs[prev]) {
        // Between a fresh pair: open a block with the cursor inside it.
        const inner = "\n" + ind + INDENT;
        replace(ta, s, end, inner + "\n" + ind, s + inner.length);
      } else if (pairs[prev] && prev !== '"') {
        replace(ta, s, end, "\n" + ind + INDENT);
      } else {
        replace(ta, s, end, "\n" + ind);
      }
      return;
    }
    if (e.key === "Tab") {
      e.preventDefault();
      if (s === end && !e.shiftKey) { replace(ta, s, end, INDENT); return; }
      indentLines(ta, e.shiftKey ? -1 : 1);
      return;
    }
    if (closers.has(e.key)) {
      if (v[s] === e.key && s === end) { e.preventDefault(); ta.setSelectionRange(s + 1, s + 1); return; }
      const ls = lineStart(v, s);
      const before = v.slice(ls, s);
      if (s === end && before.length > 0 && before.trim() === "") {
        e.preventDefault();
        const ind = before.length >= INDENT.length ? before.slice(INDENT.length) : "";
        replace(ta, ls, s, ind + e.key);
      }
      return;
    }
    if (e.key === '"' && v[s] === '"' && s === end) { e.preventDefault(); ta.setSelectionRange(s + 1, s + 1); return; }
    if (pairs[e.key] && s === end && (s === v.length || /[\s)\]},:]/.test(v[s]))) {
      if (e.key === '"' && /[_A-Za-z0-9"]/.test(v[s - 1] || "")) return;
      e.preventDefault();
      replace(ta, s, end, e.key + pairs[e.key], s + 1);
      return;
    }
    if (e.key === "Backspace" && s === end && s > 0 && pairs[v[s - 1]] === v[s]) {
      e.preventDefault();
      replace(ta, s - 1, s + 1, "");
    }
  });
}

function indentLines(ta, dir) {
  const v = ta.value;
  const s = lineStart(v, ta.selectionStart);
  let e = ta.selectionEnd;
  if (e > s && v[e - 1] === "\n") e--;
  const lines = v.slice(s, e).split("\n");
  const out = lines.map((l) => (dir > 0 ? INDENT + l : l.replace(/^ {1,2}/, ""))).join("\n");
  replace(ta, s, e, out, s, s + out.length);
}

// caretXY returns the caret's pixel position inside the textarea's box,
// relying on the monospace font and wrap="off".
export function caretXY(ta, offset) {
  const v = ta.value.slice(0, offset);
  const row = v.split("\n").length - 1;
  const col = offset - (v.lastIndexOf("\n") + 1);
  const cs = getComputedStyle(ta);
  const lineH = parseFloat(cs.lineHeight) || 20;
  if (!caretXY.ctx) caretXY.ctx = document.createElement("canvas").getContext("2d");
  caretXY.ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
  const charW = caretXY.ctx.measureText("M".repeat(20)).width / 20;
  return {
    x: parseFloat(cs.paddingLeft) + col * charW - ta.scrollLeft,
    y: parseFloat(cs.paddingTop) + (row + 1) * lineH - ta.scrollTop,
  };
}
