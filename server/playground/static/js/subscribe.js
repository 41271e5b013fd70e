// Subscriptions over the graphql-transport-ws protocol on /graphql: the
// token goes in the connection_init payload, since browsers cannot set
// headers on a WebSocket.

// subscribe starts one subscription and calls onEvent({type, payload}) for
// "open", "next", "error", "complete" and "closed"; it returns stop().
export function subscribe({ query, variables, operationName, token }, onEvent) {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  const ws = new WebSocket(url, "graphql-transport-ws");
  let done = false;
  const finish = (type, payload) => {
    if (done) return;
    done = true;
    onEvent({ type, payload });
  };
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "connection_init", payload: token ? { Authorization: "Bearer " + token } : {} }));
  });
  ws.addEventListener("message", (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    switch (msg.type) {
      case "connection_ack":
        onEvent({ type: "open" });
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables, operationName: operationName || undefined } }));
        break;
      case "ping":
        ws.send(JSON.stringify({ type: "pong" }));
        break;
      case "next":
        onEvent({ type: "next", payload: msg.payload });
        break;
      case "error":
        finish("error", { errors: Array.isArray(msg.payload) ? msg.payload : [msg.payload] });
        ws.close(1000);
        break;
      case "complete":
        finish("complete");
        ws.close(1000);
        break;
    }
  });
  ws.addEventListener("close", (ev) => {
    if (ev.code === 1000 || ev.code === 1005) finish("closed");
    else finish("error", { errors: [{ message: `connection closed: ${ev.code} ${ev.reason || ""}`.trim(), extensions: { code: ev.code === 4403 ? "FORBIDDEN" : "WEBSOCKET_" + ev.code } }] });
  });
  return () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id: "1", type: "complete" }));
    finish("closed");
    ws.close(1000);
  };
}
