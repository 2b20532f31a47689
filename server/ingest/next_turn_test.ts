import assert from "node:assert/strict";
import { nextTurn } from "./next_turn.ts";

Deno.test("nextTurn() resumes after the messages that were already queued", async () => {
  const order: string[] = [];
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = (event: MessageEvent<string>) => order.push(event.data);
  try {
    port2.postMessage("a batch that arrived during the step");
    await nextTurn();
    order.push("the next step");
    assert.deepEqual(order, ["a batch that arrived during the step", "the next step"]);
  } finally {
    port1.close();
    port2.close();
  }
});
