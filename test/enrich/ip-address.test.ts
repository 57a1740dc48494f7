/** Address parsing, normalisation and network prefixes. */

import { describe, expect, it } from "vitest";
import { formatIp, networkPrefix, parseIp } from "../../src/enrich/ip-address.js";

function normal(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

describe("parseIp", () => {
  it("parses IPv4 to an unsigned number", () => {
    expect(parseIp("0.0.0.0")).toEqual({ version: 4, value: 0 });
    expect(parseIp("255.255.255.255")).toEqual({ version: 4, value: 0xffffffff });
    expect(parseIp("8.8.4.4")).toEqual({ version: 4, value: 0x08080404 });
  });

  it("refuses malformed IPv4, including octal-looking leading zeros", () => {
    for (const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4", "1..2.3", " 1.2.3.4", "a.b.c.d"]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });

  it("normalises IPv6 the RFC 5952 way", () => {
    expect(normal("2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(normal("::")).toBe("::");
    expect(normal("::1")).toBe("::1");
    expect(normal("fe80::")).toBe("fe80::");
    expect(normal("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(normal("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
    expect(normal("2001:db8::ffff:1.2.3.4")).toBe("2001:db8::ffff:102:304");
  });

  it("treats IPv4-mapped IPv6 as the IPv4 address it carries", () => {
    expect(parseIp("::ffff:8.8.8.8")).toEqual({ version: 4, value: 0x08080808 });
    expect(parseIp("::ffff:808:808")).toEqual({ version: 4, value: 0x08080808 });
    expect(normal("::FFFF:1.2.3.4")).toBe("1.2.3.4");
  });

  it("refuses malformed IPv6 and zone ids without throwing", () => {
    for (const bad of [
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      ":1:2:3:4:5:6:7",
      "fe80::1%eth0",
      "1.2.3.4::",
      "::1.2.3",
      "g::1",
      "1:2:3:4:5:6:7::8",
      "",
      "x".repeat(10_000),
    ]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe("networkPrefix", () => {
  it("gives the /24 of IPv4 and the /48 of IPv6", () => {
    const v4 = parseIp("203.0.113.77");
    const v6 = parseIp("2001:db8:abcd:12:34::1");
    if (!v4 || !v6) throw new Error("test addresses must parse");
    expect(networkPrefix(v4)).toBe("203.0.113.0/24");
    expect(networkPrefix(v6)).toBe("2001:db8:abcd::/48");
  });
});
