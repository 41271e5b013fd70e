// Talking to Tally's /graphql endpoint: running operations and loading the
// schema by introspection.

const endpoint = "/graphql";

// run posts one operation and resolves to {status, body, ms}; body is the
// parsed JSON answer, or {errors:[...]} describing a transport failure.
export async function run({ query, variables, operationName, token }) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const started = performance.now();
  let res;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables, operationName: operationName || undefined }),
      credentials: "omit",
    });
  } catch (err) {
    return { status: 0, ms: performance.now() - started, body: { errors: [{ message: "network error: " + err.message, extensions: { code: "NETWORK" } }] } };
  }
  const text = await res.text();
  const ms = performance.now() - started;
  try {
    return { status: res.status, ms, body: JSON.parse(text) };
  } catch {
    return { status: res.status, ms, body: { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 500)}`, extensions: { code: "HTTP_" + res.status } }] } };
  }
}

// The introspection query: everything the explorer and completion use.
const typeRef = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
export const introspectionQuery = `query PlaygroundIntrospection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { name description defaultValue type { ${typeRef} } }
        type { ${typeRef} }
      }
      inputFields { name description defaultValue type { ${typeRef} } }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { name }
    }
  }
}`;

// loadSchema returns the __schema object, or throws with the server's message.
export async function loadSchema(token) {
  const { status, body } = await run({ query: introspectionQuery, token });
  if (!body.data || !body.data.__schema) {
    const msg = (body.errors && body.errors[0] && body.errors[0].message) || `HTTP ${status}`;
    throw new Error(msg);
  }
  return body.data.__schema;
}
