/**
 * Counters and gauges rendered in the Prometheus text format (version 0.0.4). Small enough
 * that a client library would add more than it saves.
 */
type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
  read?: () => number;
}

export class Metrics {
  readonly #families = new Map<string, Family>();

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const f = this.#family(name, help, 'counter');
    return (labels = {}, by = 1) => {
      const key = seriesKey(labels);
      const cur = f.values.get(key);
      if (cur) cur.value += by;
      else f.values.set(key, { labels, value: by });
    };
  }

  gauge(name: string, help: string, read: () => number): void {
    this.#family(name, help, 'gauge').read = read;
  }

  /** Current value of one series, for tests and health checks. */
  value(name: string, labels: Labels = {}): number {
    const f = this.#families.get(name);
    if (f?.read) return f.read();
    return f?.values.get(seriesKey(labels))?.value ?? 0;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.read) out.push(`${name} ${f.read()}`);
      for (const { labels, value } of f.values.values()) out.push(`${name}${fmt(labels)} ${value}`);
    }
    return `${out.join('\n')}\n`;
  }

  #family(name: string, help: string, type: Family['type']): Family {
    let f = this.#families.get(name);
    if (!f) {
      f = { help, type, values: new Map() };
      this.#families.set(name, f);
    }
    return f;
  }
}

/** Counters are bumped per message: a join is far cheaper than JSON.stringify on that path. */
function seriesKey(labels: Labels): string {
  let key = '';
  for (const k in labels) key += `${k}\u0001${labels[k]}\u0002`;
  return key;
}

function fmt(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
