/**
 * Counters and gauges rendered in the Prometheus text format (version 0.0.4). Small enough
 * that a client library would add more than it saves.
 */
type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, Series>;
  read?: () => number;
}

export class Metrics {
  readonly #families = new Map<string, Family>();

  /**
   * A counter with its label names; bumped with the values in the same order. Counters are bumped
   * per message, so each series is looked up by its values alone, without a labels object or a
   * joined key per call.
   */
  counter(name: string, help: string, labels: readonly [string]): (value: string) => void;
  counter(name: string, help: string, labels: readonly [string, string]): (a: string, b: string) => void;
  counter(name: string, help: string, labels: readonly string[]): (a: string, b?: string) => void {
    const f = this.#family(name, help, 'counter');
    const byValues = new Map<string, Series>();
    return (a, b) => {
      const key = b === undefined ? a : `${a}\u0001${b}`;
      let series = byValues.get(key);
      if (!series) {
        const values = b === undefined ? [a] : [a, b];
        series = this.#series(f, Object.fromEntries(labels.map((l, i) => [l, values[i] as string])));
        byValues.set(key, series);
      }
      series.value++;
    };
  }

  gauge(name: string, help: string, read: () => number): void {
    this.#family(name, help, 'gauge').read = read;
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

  #series(f: Family, labels: Labels): Series {
    const key = seriesKey(labels);
    let series = f.values.get(key);
    if (!series) {
      series = { labels, value: 0 };
      f.values.set(key, series);
    }
    return series;
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

function seriesKey(labels: Labels): string {
  let key = '';
  for (const k in labels) key += `${k}\u0001${labels[k]}\u0002`;
  return key;
}

function fmt(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
