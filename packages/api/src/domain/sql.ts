// Small helpers for queries whose shape depends on a list: bound parameters per provider, and
// splitting long id lists so that no statement exceeds a database's parameter limit.
import type { Provider } from "@parley/db";

/** `count` bound-parameter markers, numbered from `first` where the provider numbers them. */
export function placeholders(provider: Provider, count: number, first: number): string {
  return Array.from({ length: count }, (_, i) => (provider === "postgresql" ? `$${first + i}` : "?")).join(", ");
}

export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
