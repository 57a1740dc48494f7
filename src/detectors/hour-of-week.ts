/** Hour of the week (0 = Monday 00:00 to 167 = Sunday 23:00) of an instant, in UTC or a named time zone. */

const WEEKDAYS: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "numeric", hourCycle: "h23" });
    } catch {
      throw new Error(`unknown time zone "${timeZone}"`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The hour of week of `epochMs`; UTC unless `timeZone` (an IANA name) is given. Throws on an unknown zone. */
export function hourOfWeek(epochMs: number, timeZone?: string): number {
  if (!timeZone || timeZone === "UTC") {
    const d = new Date(epochMs);
    // getUTCDay: 0 = Sunday; shift so the week starts on Monday (ISO 8601).
    return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
  }
  let day = 0;
  let hour = 0;
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type === "weekday") day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === "hour") hour = Number(part.value) % 24;
  }
  return day * 24 + hour;
}
