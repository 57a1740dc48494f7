import { describe, expect, it } from "vitest";
import { prefixOf } from "../../src/detectors/source-network.js";

describe("prefixOf", () => {
  it("gives the /24 of an IPv4 address and of an IPv4-mapped IPv6 address", () => {
    expect(prefixOf("203.0.113.7")).toBe("203.0.113.0/24");
    expect(prefixOf("::ffff:10.1.2.3")).toBe("10.1.2.0/24");
  });

  it("gives the /48 of an IPv6 address whatever its spelling", () => {
    expect(prefixOf("2001:db8::1")).toBe("2001:db8::/48");
    expect(prefixOf("2001:0db8:0000:0001::5")).toBe("2001:db8::/48");
    expect(prefixOf("2001:db8:a0:1:2:3:4:5")).toBe("2001:db8:a0::/48");
  });

  it("is undefined for anything that is not an address", () => {
    expect(prefixOf("")).toBeUndefined();
    expect(prefixOf("203.0.113")).toBeUndefined();
    expect(prefixOf("example.org")).toBeUndefined();
    expect(prefixOf(" 203.0.113.7")).toBeUndefined();
  });
});
