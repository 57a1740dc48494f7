/** User-Agent parsing into client facts, bot detection and hostile input. */

import { describe, expect, it } from "vitest";
import { isBotUserAgent, parseUserAgent } from "../../src/enrich/user-agent.js";

const CHROME_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const SAFARI_IPAD =
  "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

describe("parseUserAgent", () => {
  it("reads a desktop browser", () => {
    expect(parseUserAgent(CHROME_WINDOWS)).toEqual({
      browser: "Chrome",
      browserMajor: "124",
      os: "Windows",
      osVersion: "10",
      device: "desktop",
      bot: false,
    });
    expect(parseUserAgent(FIREFOX_LINUX)).toMatchObject({ browser: "Firefox", browserMajor: "125", device: "desktop" });
  });

  it("reads phones and tablets", () => {
    expect(parseUserAgent(SAFARI_IPHONE)).toMatchObject({ os: "iOS", osVersion: "17.4", device: "mobile", bot: false });
    expect(parseUserAgent(SAFARI_IPAD)).toMatchObject({ device: "tablet", bot: false });
  });

  it("flags crawlers, HTTP libraries, tools and headless browsers as bots", () => {
    for (const ua of [
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
      "curl/8.5.0",
      "Wget/1.21.4",
      "python-requests/2.31.0",
      "Python-urllib/3.11",
      "Go-http-client/1.1",
      "okhttp/4.12.0",
      "axios/1.6.8",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
      "",
    ]) {
      const facts = parseUserAgent(ua);
      expect(facts.bot, ua).toBe(true);
      expect(facts.device, ua).toBe("bot");
    }
  });

  it("does not flag ordinary browsers", () => {
    for (const ua of [CHROME_WINDOWS, SAFARI_IPHONE, SAFARI_IPAD, FIREFOX_LINUX])
      expect(isBotUserAgent(ua), ua).toBe(false);
  });

  it("survives garbage and huge strings without throwing", () => {
    expect(parseUserAgent("\u0000\uffff(((((")).toMatchObject({ bot: false, device: "other" });
    const huge = `${CHROME_WINDOWS} ${"A".repeat(1_000_000)}`;
    expect(parseUserAgent(huge)).toMatchObject({ browser: "Chrome", device: "desktop" });
  });
});
