// A small index over an introspection result: look types up by name and
// render type references the way GraphQL writes them.

export class Schema {
  constructor(raw) {
    this.raw = raw;
    this.types = new Map(raw.types.map((t) => [t.name, t]));
    this.queryType = raw.queryType && raw.queryType.name;
    this.mutationType = raw.mutationType && raw.mutationType.name;
    this.subscriptionType = raw.subscriptionType && raw.subscriptionType.name;
  }

  type(name) {
    return this.types.get(name);
  }

  // rootFor maps an operation keyword to its root type name.
  rootFor(op) {
    if (op === "mutation") return this.mutationType;
    if (op === "subscription") return this.subscriptionType;
    return this.queryType;
  }

  field(typeName, fieldName) {
    const t = this.type(typeName);
    if (!t) return null;
    if (fieldName === "__typename") return { name: "__typename", args: [], type: { kind: "NON_NULL", ofType: { kind: "SCALAR", name: "String" } } };
    return (t.fields || []).find((f) => f.name === fieldName) || null;
  }

  inputField(typeName, fieldName) {
    const t = this.type(typeName);
    return (t && (t.inputFields || []).find((f) => f.name === fieldName)) || null;
  }

  // userTypes lists the schema's own types, without introspection types.
  userTypes() {
    return this.raw.types.filter((t) => !t.name.startsWith("__"));
  }
}

// namedType strips NON_NULL and LIST wrappers.
export function namedType(ref) {
  while (ref && ref.ofType) ref = ref.ofType;
  return ref ? ref.name : null;
}

// typeString renders a reference as GraphQL SDL writes it: [Site!]!
export function typeString(ref) {
  if (!ref) return "";
  if (ref.kind === "NON_NULL") return typeString(ref.ofType) + "!";
  if (ref.kind === "LIST") return "[" + typeString(ref.ofType) + "]";
  return ref.name;
}
