// Reading /metrics the way Prometheus does: over HTTP, parsed from the text format.

/** Every sample of a scrape, by `name` or `name{label="value",...}` (labels as written). */
export type Scrape = Map<string, number>;

export function parseExposition(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

export async function scrape(server: { url: string }, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${server.url}/metrics`, { headers });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

/** A sample's value; fails when the scrape does not have it. */
export function valueOf(samples: Scrape, key: string): number {
  const value = samples.get(key);
  if (value === undefined) throw new Error(`no sample ${key} in the scrape`);
  return value;
}
