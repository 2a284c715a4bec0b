const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

/** "2 hours ago" / "2小时前", from the API's ISO timestamps. */
export function relativeTime(iso: string, now: number, locale: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  let format = relativeFormats.get(locale);
  if (!format) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    relativeFormats.set(locale, format);
  }
  const seconds = Math.round((then - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(0, 'second');
}

/** Local date and time to the second, e.g. 2026-02-25 12:30:15: one incident's events are seconds apart. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A duration in seconds as the largest one or two units: "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(
  seconds: number,
  units: { s: string; min: string; h: string; d: string },
): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} ${units.s}`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} ${units.min}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24)
    return minutes % 60 ? `${hours} ${units.h} ${minutes % 60} ${units.min}` : `${hours} ${units.h}`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} ${units.d} ${hours % 24} ${units.h}` : `${days} ${units.d}`;
}
