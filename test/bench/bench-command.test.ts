/** `signalbox bench`: runs a policy for a moment and prints its figures; shifted replays move time and tokens. */

import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerBenchCommand, shiftRequest } from "../../src/cli/commands/bench.js";
import type { AccessRequest } from "../../src/model/request.js";

describe("signalbox bench", () => {
  it("prints decisions/s and p50/p99 for the given policy", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command().exitOverride();
    registerBenchCommand(program, { out: (s) => out.push(s), err: (s) => err.push(s) });
    await program.parseAsync(["bench", "--policy", "examples/authzen-todo/policy.yaml", "--duration", "1"], {
      from: "user",
    });
    const text = out.join("\n");
    expect(err.join("\n")).toContain("examples/authzen-todo/policy.yaml");
    const perSecond = Number(/decisions\/s: (\d+)/.exec(text)?.[1]);
    expect(perSecond).toBeGreaterThan(0);
    expect(text).toMatch(/p50: +[\d.]+ µs/);
    expect(text).toMatch(/p99: +[\d.]+ µs/);
  });

  it("rejects a duration that is not a whole number of seconds", async () => {
    const program = new Command().exitOverride();
    registerBenchCommand(program, { out: () => {}, err: () => {} });
    await expect(program.parseAsync(["bench", "--duration", "0.5"], { from: "user" })).rejects.toThrow(/--duration/);
  });

  it("shifts a replayed request's time, token and session, and renames its token", () => {
    const request: AccessRequest = {
      subject: { type: "user", id: "u1" },
      action: { name: "read" },
      resource: { type: "doc", id: "d1" },
      context: {
        time: "2026-09-07T10:00:00.000Z",
        token: { jti: "j1", iat: 1_788_775_200, exp: 1_788_778_800 },
        session: { id: "s1", auth_time: 1_788_775_200 },
      },
    };
    const day = 86_400_000;
    const shifted = shiftRequest(request, 6 * day, 1);
    expect(shifted.context?.time).toBe("2026-09-13T10:00:00.000Z");
    expect(shifted.context?.token).toEqual({
      jti: "j1.1",
      iat: 1_788_775_200 + 6 * 86_400,
      exp: 1_788_778_800 + 6 * 86_400,
    });
    expect(shifted.context?.session).toEqual({ id: "s1", auth_time: 1_788_775_200 + 6 * 86_400 });
    expect(request.context?.time).toBe("2026-09-07T10:00:00.000Z");
    expect(shiftRequest(request, 0, 0)).toBe(request);
  });
});
