/** Time arithmetic for the simulation (epoch milliseconds). */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Day of week, 0 = Sunday, for a day start in UTC shifted by a local offset. */
export function localWeekday(dayStart: number, utcOffset: number): number {
  return new Date(dayStart + utcOffset * HOUR + 12 * HOUR).getUTCDay();
}

/** The UTC epoch ms of a local wall-clock hour on the day starting at `dayStart` (UTC midnight). */
export function atLocalHour(dayStart: number, utcOffset: number, hour: number): number {
  return Math.round(dayStart + (hour - utcOffset) * HOUR);
}
