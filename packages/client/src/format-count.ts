/** A count as the locale writes it: "4,000" or "4 000". */
export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}
