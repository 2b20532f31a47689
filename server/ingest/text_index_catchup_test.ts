import assert from "node:assert/strict";
import { Progress } from "../../common/progress.ts";
import { watchTextIndexCatchup } from "./text_index_catchup.ts";

Deno.test("watchTextIndexCatchup() reports a large lag until it is gone, with the events indexed", async () => {
  const lags = [500, 300, 100, 0];
  const lines: string[] = [];
  const catchup = watchTextIndexCatchup(
    { textIndexLag: () => Promise.resolve(lags.length > 1 ? lags.shift()! : lags[0]!) },
    (label, unit, total) =>
      new Progress({
        label,
        unit,
        total,
        mode: "lines",
        intervalMs: 0,
        write: (l) => lines.push(l),
      }),
    { minEvents: 100, pollMs: 1 },
  );
  await catchup.done;
  assert.match(lines[0]!, /^Full-text index catching up: 0% \(0 of 500 events\)/);
  assert.ok(lines.some((l) => /: 40% \(200 of 500 events\)/.test(l)), lines.join("\n"));
  assert.match(lines.at(-1)!, /^Full-text index catching up: 500 events in \d/);
});

Deno.test("watchTextIndexCatchup() says nothing when the index is nearly caught up", async () => {
  const lines: string[] = [];
  const catchup = watchTextIndexCatchup(
    { textIndexLag: () => Promise.resolve(50) },
    (label, unit, total) =>
      new Progress({ label, unit, total, mode: "lines", write: (l) => lines.push(l) }),
    { minEvents: 100, pollMs: 1 },
  );
  await catchup.done;
  assert.deepEqual(lines, []);
});
