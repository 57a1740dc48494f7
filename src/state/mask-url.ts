/** Store URLs as they may be printed: in logs, errors and the CLI's output. */

/** A URL with its password (in the user info or a `password` parameter) replaced by `***`, safe to print. */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return `${scheme}${colon === -1 ? "***" : `${userinfo.slice(0, colon)}:***`}@`;
    })
    .replace(/([?&](?:password|pass|pwd|sentinel_password)=)[^&#]*/gi, "$1***");
}
