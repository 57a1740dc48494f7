/** Turns a User-Agent header into client facts: browser, OS, device type and whether it is a bot. */

import UAParser from "ua-parser-js";
import type { ClientFacts } from "./enrichment.js";

/**
 * Real browsers send 100–300 characters; anything past this is noise or an attack on the parser's
 * regular expressions, and is cut before parsing and before it becomes a cache key.
 */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * Automation that ua-parser-js 1.x does not flag (it has no bot detection): crawlers, HTTP client
 * libraries, command-line tools and headless browsers. Kept short on purpose; a token here only
 * has to be unusual in a human's browser.
 */
const BOT_PATTERN =
  /bot\b|bot\/|crawl|spider|slurp|scrape|curl\/|wget\/|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|java\/|okhttp|apache-httpclient|libwww-perl|axios\/|node-fetch|undici|postmanruntime|insomnia|httpie|headlesschrome|phantomjs|puppeteer|playwright|selenium|facebookexternalhit|^mozilla\/5\.0$|^$/i;

/** Whether a User-Agent is automation by its own admission. */
export function isBotUserAgent(userAgent: string): boolean {
  return BOT_PATTERN.test(userAgent.trim());
}

function deviceOf(type: string | undefined, hasBrowser: boolean): ClientFacts["device"] {
  switch (type) {
    case "mobile":
    case "wearable":
      return "mobile";
    case "tablet":
      return "tablet";
    case undefined:
      // ua-parser-js leaves desktops untyped; without a browser the client is a tool, not a desktop.
      return hasBrowser ? "desktop" : "other";
    default:
      return "other";
  }
}

/** Parses a User-Agent (already capped by the caller or here). Never throws. */
export function parseUserAgent(userAgent: string): ClientFacts {
  const ua = userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent;
  const bot = isBotUserAgent(ua);
  let result: UAParser.IResult | undefined;
  try {
    result = new UAParser(ua).getResult();
  } catch {
    result = undefined;
  }
  const browser = result?.browser.name;
  const facts: ClientFacts = { device: bot ? "bot" : deviceOf(result?.device.type, browser !== undefined), bot };
  if (browser) facts.browser = browser;
  const major = result?.browser.major;
  if (major) facts.browserMajor = major;
  const os = result?.os.name;
  if (os) facts.os = os;
  const osVersion = result?.os.version;
  if (osVersion) facts.osVersion = osVersion;
  return facts;
}
