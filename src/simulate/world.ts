/**
 * The simulated world's places, networks and clients. Networks use real public address blocks of
 * well-known providers so the enrichment databases see realistic ASNs; the PEP-supplied geo keeps
 * each request's place consistent with its story.
 */

export interface City {
  readonly name: string;
  readonly country: string;
  readonly lat: number;
  readonly lon: number;
  /** Offset from UTC in hours (standard time; the simulation ignores daylight saving). */
  readonly utcOffset: number;
}

export const CITIES: readonly City[] = [
  { name: "London", country: "GB", lat: 51.51, lon: -0.13, utcOffset: 0 },
  { name: "Manchester", country: "GB", lat: 53.48, lon: -2.24, utcOffset: 0 },
  { name: "Berlin", country: "DE", lat: 52.52, lon: 13.4, utcOffset: 1 },
  { name: "Munich", country: "DE", lat: 48.14, lon: 11.58, utcOffset: 1 },
  { name: "Paris", country: "FR", lat: 48.86, lon: 2.35, utcOffset: 1 },
  { name: "New York", country: "US", lat: 40.71, lon: -74.01, utcOffset: -5 },
  { name: "Chicago", country: "US", lat: 41.88, lon: -87.63, utcOffset: -6 },
  { name: "San Francisco", country: "US", lat: 37.77, lon: -122.42, utcOffset: -8 },
];

export const FAR_CITIES: readonly City[] = [
  { name: "Lagos", country: "NG", lat: 6.52, lon: 3.38, utcOffset: 1 },
  { name: "Moscow", country: "RU", lat: 55.76, lon: 37.62, utcOffset: 3 },
  { name: "Hanoi", country: "VN", lat: 21.03, lon: 105.85, utcOffset: 7 },
  { name: "Sao Paulo", country: "BR", lat: -23.55, lon: -46.63, utcOffset: -3 },
  { name: "Singapore", country: "SG", lat: 1.35, lon: 103.82, utcOffset: 8 },
];

export type NetworkKind = "residential" | "mobile" | "hosting";

export interface Network {
  readonly name: string;
  readonly kind: NetworkKind;
  readonly country: string;
  /** First three octets of a /16-or-larger block; the last octets are drawn per user. */
  readonly base: readonly [number, number];
}

export const NETWORKS: readonly Network[] = [
  { name: "BT", kind: "residential", country: "GB", base: [86, 128] },
  { name: "Virgin Media", kind: "residential", country: "GB", base: [82, 0] },
  { name: "EE", kind: "mobile", country: "GB", base: [31, 94] },
  { name: "Deutsche Telekom", kind: "residential", country: "DE", base: [79, 192] },
  { name: "Vodafone DE", kind: "residential", country: "DE", base: [88, 64] },
  { name: "Telefonica DE", kind: "mobile", country: "DE", base: [176, 0] },
  { name: "Orange", kind: "residential", country: "FR", base: [90, 0] },
  { name: "Free", kind: "residential", country: "FR", base: [82, 64] },
  { name: "Comcast", kind: "residential", country: "US", base: [73, 0] },
  { name: "Verizon", kind: "residential", country: "US", base: [71, 160] },
  { name: "T-Mobile US", kind: "mobile", country: "US", base: [172, 56] },
  { name: "MTN Nigeria", kind: "mobile", country: "NG", base: [102, 88] },
  { name: "Rostelecom", kind: "residential", country: "RU", base: [95, 24] },
  { name: "Viettel", kind: "mobile", country: "VN", base: [171, 224] },
  { name: "Claro BR", kind: "residential", country: "BR", base: [177, 0] },
  { name: "Singtel", kind: "residential", country: "SG", base: [116, 86] },
];

/** Hosting and VPN exits (datacenter address space). */
export const HOSTING: readonly Network[] = [
  { name: "DigitalOcean", kind: "hosting", country: "US", base: [159, 89] },
  { name: "AWS", kind: "hosting", country: "US", base: [3, 80] },
  { name: "OVH", kind: "hosting", country: "FR", base: [51, 68] },
  { name: "Hetzner", kind: "hosting", country: "DE", base: [95, 216] },
  { name: "Linode", kind: "hosting", country: "GB", base: [178, 79] },
];

export function networksIn(country: string, kind?: NetworkKind): Network[] {
  return NETWORKS.filter((n) => n.country === country && (kind === undefined || n.kind === kind));
}

export interface Client {
  readonly ua: string;
  readonly kind: "desktop" | "mobile";
}

export const CLIENTS: readonly Client[] = [
  {
    kind: "desktop",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  },
  {
    kind: "desktop",
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  },
  { kind: "desktop", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0" },
  {
    kind: "desktop",
    ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  },
  {
    kind: "mobile",
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  },
  {
    kind: "mobile",
    ua: "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  },
];

export const ATTACK_TOOL_UA = "python-requests/2.32.3";
