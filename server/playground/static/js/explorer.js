// The schema explorer: root types first, then every type; each type page
// lists fields with their arguments and descriptions, and every type name
// is a link.

import { h } from "./dom.js";
import { namedType, typeString } from "./schema.js";

export class Explorer {
  constructor({ body, crumbs, search }) {
    this.body = body;
    this.crumbs = crumbs;
    this.search = search;
    this.schema = null;
    this.trail = [];
    search.addEventListener("input", () => this.render());
  }

  setSchema(schema) {
    this.schema = schema;
    this.trail = this.trail.filter((n) => schema.type(n));
    this.render();
  }

  setError(message) {
    this.schema = null;
    this.body.replaceChildren(h("p", { class: "empty" }, "Could not load the schema: " + message));
  }

  open(name) {
    if (!this.schema || !this.schema.type(name)) return;
    this.search.value = "";
    const i = this.trail.indexOf(name);
    this.trail = i >= 0 ? this.trail.slice(0, i + 1) : this.trail.concat(name);
    this.render();
    this.body.parentElement.scrollTop = 0;
  }

  // typeLink renders a type reference ([Site!]!) with the named type clickable.
  typeLink(ref) {
    const s = typeString(ref);
    const name = namedType(ref);
    const at = s.indexOf(name);
    return h("span", { class: "sx-typeref" }, s.slice(0, at), h("a", { class: "tlink", onclick: () => this.open(name) }, name), s.slice(at + name.length));
  }

  render() {
    if (!this.schema) return;
    const q = this.search.value.trim().toLowerCase();
    this.crumbs.replaceChildren(
      h("a", { onclick: () => { this.trail = []; this.search.value = ""; this.render(); } }, "Schema"),
      ...this.trail.flatMap((n, i) => [" › ", i === this.trail.length - 1 ? n : h("a", { onclick: () => this.open(n) }, n)]),
    );
    if (q) return this.renderSearch(q);
    if (this.trail.length === 0) return this.renderIndex();
    this.renderType(this.schema.type(this.trail[this.trail.length - 1]));
  }

  renderIndex() {
    const s = this.schema;
    const roots = [s.queryType, s.mutationType, s.subscriptionType].filter(Boolean);
    const others = s.userTypes().filter((t) => !roots.includes(t.name)).sort((a, b) => a.name.localeCompare(b.name));
    this.body.replaceChildren(
      h("div", { class: "sx-section" }, "Root types"),
      h("ul", { class: "sx-list" }, roots.map((n) => h("li", {}, h("a", { class: "tlink", onclick: () => this.open(n) }, n), h("span", { class: "sx-kind" }, "  " + (n === s.queryType ? "query" : n === s.mutationType ? "mutation" : "subscription"))))),
      h("div", { class: "sx-section" }, "All types"),
      h("ul", { class: "sx-list" }, others.map((t) => h("li", { title: t.description || "" }, h("a", { class: "tlink", onclick: () => this.open(t.name) }, t.name), h("span", { class: "sx-kind" }, "  " + t.kind.toLowerCase().replace("_", " "))))),
    );
  }

  renderSearch(q) {
    const hits = [];
    for (const t of this.schema.userTypes()) {
      if (t.name.toLowerCase().includes(q)) hits.push(h("li", {}, h("a", { class: "tlink", onclick: () => this.open(t.name) }, t.name), h("span", { class: "sx-kind" }, "  " + t.kind.toLowerCase())));
      for (const f of t.fields || t.inputFields || []) {
        if (f.name.toLowerCase().includes(q)) hits.push(h("li", {}, h("a", { class: "tlink", onclick: () => this.open(t.name) }, t.name), "." + f.name + ": ", this.typeLink(f.type)));
      }
    }
    this.body.replaceChildren(hits.length ? h("ul", { class: "sx-list" }, hits) : h("p", { class: "empty" }, "Nothing matches."));
  }

  renderType(t) {
    const parts = [h("div", { class: "sx-kind" }, t.kind.toLowerCase().replace("_", " ")), h("h2", {}, t.name)];
    if (t.description) parts.push(h("p", { class: "sx-desc" }, t.description));
    const fields = t.fields || t.inputFields;
    if (fields && fields.length) {
      parts.push(h("div", { class: "sx-section" }, t.kind === "INPUT_OBJECT" ? "Input fields" : "Fields"));
      for (const f of fields) parts.push(this.renderField(f));
    }
    if (t.enumValues && t.enumValues.length) {
      parts.push(h("div", { class: "sx-section" }, "Values"));
      for (const e of t.enumValues) {
        parts.push(h("div", { class: "sx-field" }, h("span", { class: "fname" }, e.name),
          e.isDeprecated ? h("span", { class: "sx-deprecated" }, "  deprecated: " + (e.deprecationReason || "")) : null,
          e.description ? h("p", { class: "sx-desc" }, e.description) : null));
      }
    }
    if (t.possibleTypes && t.possibleTypes.length) {
      parts.push(h("div", { class: "sx-section" }, "Possible types"));
      parts.push(h("ul", { class: "sx-list" }, t.possibleTypes.map((p) => h("li", {}, h("a", { class: "tlink", onclick: () => this.open(p.name) }, p.name)))));
    }
    this.body.replaceChildren(h("div", { class: "sx-type" }, parts));
  }

  renderField(f) {
    const args = f.args && f.args.length
      ? h("div", { class: "sx-args" }, f.args.map((a) => h("div", { title: a.description || "" }, a.name + ": ", this.typeLink(a.type), a.defaultValue ? " = " + a.defaultValue : "", a.description ? h("span", { class: "sx-desc" }, "  " + a.description) : null)))
      : null;
    return h("div", { class: "sx-field" },
      h("span", { class: "fname" }, f.name), ": ", this.typeLink(f.type),
      f.isDeprecated ? h("span", { class: "sx-deprecated" }, "  deprecated: " + (f.deprecationReason || "")) : null,
      args,
      f.description ? h("p", { class: "sx-desc" }, f.description) : null);
  }
}
