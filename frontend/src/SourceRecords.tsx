// Every source's full record side by side (the break's `records`: source -> {field: text}),
// with the fields that differ (the break's `fields`) highlighted.

import type { Break } from './types';

export function SourceRecords({ brk }: { brk: Break }) {
  const records = brk.records;
  if (!records || Object.keys(records).length === 0) return null;
  const sources = Object.keys(records);
  const names = new Set<string>();
  for (const s of sources) for (const f of Object.keys(records[s] ?? {})) names.add(f);
  const differing = new Set(brk.fields.map((f) => f.field));
  const fields = [...names].sort((a, b) => Number(differing.has(b)) - Number(differing.has(a)) || a.localeCompare(b));
  return (
    <section data-testid="records">
      <h3>Records</h3>
      <table className="mini">
        <thead>
          <tr>
            <th>Field</th>
            {sources.map((s) => (
              <th key={s}>{s}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => {
            const values = sources.map((s) => records[s]?.[f] ?? null);
            // a differing field of the break, or two sources holding different values (a field
            // only one source has, such as its own booking id, is not a difference)
            const present = values.filter((v) => v !== null);
            const differs = differing.has(f) || new Set(present).size > 1;
            return (
              <tr key={f} className={differs ? 'rec-differs' : undefined} data-differs={differs}>
                <td className="mono">{f}</td>
                {values.map((v, i) => (
                  <td key={sources[i]} className={`mono${differs ? ' cell-differs' : ''}`}>
                    {v === null ? <span className="muted">∅</span> : v}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
