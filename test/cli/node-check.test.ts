/**
 * Below the supported Node, hub says so in one line and exits 2 before loading anything: the
 * machine's own Node 20 (/usr/bin/node on Debian 12 here) cannot strip TypeScript types.
 */
import { existsSync } from "node:fs";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const HUB = new URL("../../bin/hub.js", import.meta.url).pathname;
const OLD_NODE = "/usr/bin/node";

describe("Node version check", () => {
  it("an older Node gets one line naming the found and needed versions and how to get one, exit 2", async () => {
    expect(existsSync(OLD_NODE), `${OLD_NODE} (the machine's Node 20) is needed for this test`).toBe(true);
    const version = (await execa(OLD_NODE, ["--version"])).stdout.trim();
    expect(version, "the machine's node is expected to be older than 22.18").toMatch(/^v(1\d|20|21|22\.(1[0-7]|\d))\./);
    const r = await execa(OLD_NODE, [HUB, "run", "--harness", "guidellm"], { reject: false });
    expect(r.exitCode).toBe(2);
    const lines = String(r.stderr).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`needs Node 22\\.18 or newer; this is Node ${version.slice(1).replace(/\./g, "\\.")}.*Install Node 22 LTS or 24`));
  });
});
