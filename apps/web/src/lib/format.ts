// Dates and times as people read them, in their own time zone and language.
export interface FormatOptions {
  locale?: string;
  timeZone?: string;
}

function parts(date: Date, timeZone: string | undefined): { y: number; m: number; d: number } {
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric", day: "numeric" });
  const values = Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
  return { y: Number(values.year), m: Number(values.month), d: Number(values.day) };
}

/** A calendar day in the viewer's time zone, e.g. "2025-03-09". */
export function dayKey(iso: string, { timeZone }: FormatOptions = {}): string {
  const { y, m, d } = parts(new Date(iso), timeZone);
  return `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

function daysBetween(fromKey: string, toKey: string): number {
  return Math.round((Date.parse(`${toKey}T00:00:00Z`) - Date.parse(`${fromKey}T00:00:00Z`)) / 86_400_000);
}

/** "14:05" or "2:05 PM", as the locale writes it. */
export function formatTime(iso: string, { locale, timeZone }: FormatOptions = {}): string {
  return new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit", timeZone }).format(new Date(iso));
}

/** The full date and time, for a tooltip. */
export function formatFull(iso: string, { locale, timeZone }: FormatOptions = {}): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short", timeZone }).format(new Date(iso));
}

/** A heading between days: "Today", "Yesterday", "Monday", or a date. */
export function formatDayLabel(iso: string, now: Date, opts: FormatOptions = {}): string {
  const diff = daysBetween(dayKey(iso, opts), dayKey(now.toISOString(), opts));
  if (diff === 0) return "Today";
  if (diff === 1) return "Yesterday";
  const date = new Date(iso);
  if (diff > 1 && diff < 7) return new Intl.DateTimeFormat(opts.locale, { weekday: "long", timeZone: opts.timeZone }).format(date);
  const sameYear = dayKey(iso, opts).slice(0, 4) === dayKey(now.toISOString(), opts).slice(0, 4);
  return new Intl.DateTimeFormat(opts.locale, {
    weekday: "short",
    day: "numeric",
    month: "long",
    ...(sameYear ? {} : { year: "numeric" }),
    timeZone: opts.timeZone,
  }).format(date);
}

/** A short time for the conversation list: the time today, "Yesterday", a weekday, or a date. */
export function formatListTime(iso: string, now: Date, opts: FormatOptions = {}): string {
  const diff = daysBetween(dayKey(iso, opts), dayKey(now.toISOString(), opts));
  if (diff <= 0) return formatTime(iso, opts);
  if (diff === 1) return "Yesterday";
  const date = new Date(iso);
  if (diff < 7) return new Intl.DateTimeFormat(opts.locale, { weekday: "short", timeZone: opts.timeZone }).format(date);
  return new Intl.DateTimeFormat(opts.locale, { day: "numeric", month: "short", timeZone: opts.timeZone }).format(date);
}
