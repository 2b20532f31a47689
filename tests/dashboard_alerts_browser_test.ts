/**
 * The console's Alerts view and syslog sources in a real headless Chromium:
 * alerts shown live (an Alerts view, and a badge on the others), sources
 * listed beside the agents with a status by last message. Screenshots go to test-output/screenshots/ (11-13).
 *
 * @module
 */

import { waitFor } from "./_harness/wait_for.ts";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chromiumMissing, launchBrowser } from "./_harness/browser.ts";
import { addUser } from "./_harness/console.ts";
import { LineClient } from "./_harness/line_client.ts";
import { startTestServer } from "./_harness/server.ts";

const SCREENSHOTS = new URL("../test-output/screenshots/", import.meta.url);
const missing = chromiumMissing();

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage });
}

/** Eight failed passwords from one address, a second apart: rule 5763 (brute force, level 10). */
function bruteForce(srcip: string, host = "web-01"): string[] {
  return [31, 32, 33, 34, 35, 36, 37, 38].map((s) =>
    `Nov 23 19:43:${s} ${host} sshd[812]: Failed password for invalid user admin from ${srcip} port ${
      52_100 + s
    } ssh2`
  );
}

Deno.test({
  name: missing
    ? `web console Alerts view works in Chromium (ignored: ${missing})`
    : "web console: Alerts view, badge on other views, Search from an alert, syslog sources",
  ignore: missing !== null,
  async fn(t) {
    await using srv = await startTestServer({
      httpPort: 0,
      syslogTcpPort: 0,
      adminPassword: "admin-pass-1",
    });
    const base = srv.httpUrl!;
    await addUser(srv.store, "collector", "agent", "agent-pass-1");
    await using agent = await LineClient.connect(srv.port);
    await agent.readLine();
    await agent.send("LOGIN collector agent-pass-1");
    assert.equal(await agent.readLine(), "ACK OK Login successful");
    const send = async (lines: readonly string[]) => {
      for (const line of lines) await agent.send(`BATCH_EVENT ${line}`);
      assert.deepEqual(
        await agent.readLines(lines.length),
        lines.map(() => "ACK OK Event received"),
      );
    };

    await using browser = await launchBrowser();
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${base}/login`);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill("admin-pass-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitFor(() => /#\/live$/.test(page.url()), {
      timeoutMs: 15_000,
      message: `URL matching ${/#\/live$/}`,
    });
    await page.locator("#live-state", { hasText: "Live" }).waitFor();
    const badge = page.locator("#alerts-badge");

    await t.step("a brute force raises the badge on the Live view within seconds", async () => {
      assert.equal(await badge.isHidden(), true, "no alert yet");
      // A level-3 alert whose field is log text that looks like HTML.
      await send([
        "Nov 23 19:40:00 web-01 sshd[800]: Accepted password for <img src=x onerror=alert(1)> from 10.0.0.9 port 40000 ssh2",
        ...bruteForce("203.0.113.7"),
      ]);
      await badge.filter({ hasText: "1" }).waitFor({ state: "visible", timeout: 5_000 });
    });

    await t.step(
      "the Alerts view lists the alert, colored by level, and clears the badge",
      async () => {
        await page.getByRole("link", { name: "Alerts" }).click();
        const row = page.locator('#alerts-table tr[data-rule="5763"]');
        await row.waitFor();
        assert.equal(await row.getAttribute("data-level"), "10");
        assert.match((await row.getAttribute("class"))!, /band-high/);
        assert.equal(await row.locator(".level").textContent(), "10");
        assert.match((await row.locator("td.desc").textContent())!, /brute force/);
        assert.equal(await row.locator(".field-key").textContent(), "srcip");
        assert.equal(await row.locator(".field-value").textContent(), "203.0.113.7");
        await badge.waitFor({ state: "hidden" });
        // Attacker-controlled field values stay text.
        const accepted = page.locator('#alerts-table tr[data-rule="5715"]');
        await accepted.waitFor();
        assert.match((await accepted.getAttribute("class"))!, /band-low/);
        assert.equal(
          await accepted.locator(".field-value", { hasText: "onerror" }).textContent(),
          "<img src=x onerror=alert(1)>",
        );
        assert.equal(await page.locator("#alerts-table img").count(), 0);
        // Newest update first.
        const rules = await page.locator("#alerts-table tbody tr").evaluateAll((rows) =>
          rows.map((r) => Number(r.getAttribute("data-id")))
        );
        assert.ok(rules.length >= 3, `${rules.length} alerts shown`);
        await screenshot(page, "11-alerts");
        // The level filter.
        await page.getByLabel("Minimum level").selectOption("10");
        await page.locator('#alerts-table tr[data-rule="5760"]').waitFor({ state: "detached" });
        assert.equal(await page.locator('#alerts-table tr[data-rule="5763"]').count(), 1);
        await page.getByLabel("Minimum level").selectOption("0");
        await page.locator('#alerts-table tr[data-rule="5760"]').waitFor();
      },
    );

    await t.step("an alert's Events link opens Search on its source address", async () => {
      await page.locator('#alerts-table tr[data-rule="5763"]').getByRole("link", { name: "Events" })
        .click();
      await waitFor(() => /#\/search\?/.test(page.url()), {
        timeoutMs: 15_000,
        message: `URL matching ${/#\/search\?/}`,
      });
      assert.equal(
        await page.locator("#search-form").getByLabel("Keyword").inputValue(),
        "203.0.113.7",
      );
      const marked = page.locator("#search-table tbody tr.marked");
      await marked.first().waitFor();
      assert.ok((await marked.count()) >= 5, "the triggering events are highlighted");
      const messages = await page.locator("#search-table tbody td.msg").allTextContents();
      assert.ok(messages.every((m) => m.includes("from 203.0.113.7 ")), messages.join("\n"));
    });

    await t.step("a new alert raises the badge again while another view is open", async () => {
      assert.equal(await badge.isHidden(), true);
      await send(bruteForce("198.51.100.23", "web-02"));
      await badge.filter({ hasText: "1" }).waitFor({ state: "visible", timeout: 5_000 });
      await screenshot(page, "11-alerts-badge");
    });

    await t.step("a syslog sender appears in the sources table of the Agents view", async () => {
      {
        using conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: srv.server.syslogAddrs.tcp!.port,
        });
        await conn.write(
          new TextEncoder().encode("<34>1 2026-11-23T19:43:33Z router-1 sshd 812 - - hello\n"),
        );
      }
      await page.getByRole("link", { name: "Agents" }).click();
      const row = page.locator('#sources-table tr[data-address="127.0.0.1"][data-status="active"]');
      await row.waitFor();
      const cells = await row.locator("td").allTextContents();
      assert.deepEqual(cells.slice(0, 4), ["Active", "127.0.0.1", "router-1", "TCP"]);
      assert.equal(cells[6], "1", "events");
      await screenshot(page, "12-sources");
    });

    await t.step("the Alerts view is readable on a phone", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole("link", { name: "Alerts" }).click();
      await page.locator('#alerts-table tr[data-rule="5763"]').first().waitFor();
      await screenshot(page, "13-alerts-phone");
    });
    assert.deepEqual(dialogs, [], "no script ran");
    await page.close();
  },
});
