// Query history in localStorage. Only the query, variables and a label are
// kept: never the token, which lives in sessionStorage alone.

const KEY = "tally.playground.history";
const MAX = 50;

export function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function add(entry) {
  const list = load().filter((e) => !(e.query === entry.query && e.variables === entry.variables));
  list.unshift({ query: entry.query, variables: entry.variables, label: entry.label, at: new Date().toISOString() });
  try {
    localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
  } catch {
    // A full or disabled storage only costs the history.
  }
  return load();
}

export function clear() {
  localStorage.removeItem(KEY);
}
