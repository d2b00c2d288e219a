// The break grid: TanStack Table (sorting, global quick search, column resizing) with
// row virtualisation (TanStack Virtual) only for large views. Small views render every
// row, so the whole grid is in the DOM.

import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getSortedRowModel,
  useReactTable,
  type FilterFn,
  type Row,
  type SortingFn,
  type SortingState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Break } from './types';
import { isOverdue } from './breaks';
import { compareDecimal, formatAgeDays, formatFieldDiff, formatKey, formatTimestamp, searchText } from './format';
import { CauseTag, DispositionTag, KindTag, StatusTag } from './tags';

/** Above this many rows the grid virtualises (renders only the visible rows). */
export const VIRTUALIZE_ABOVE = 500;
const ROW_HEIGHT = 29;

const searchCache = new WeakMap<Break, string>();
const textOf = (b: Break): string => {
  let t = searchCache.get(b);
  if (t === undefined) {
    t = searchText(b);
    searchCache.set(b, t);
  }
  return t;
};

const quickSearch: FilterFn<Break> = (row, _columnId, value: string) => {
  const terms = value.toLowerCase().split(/\s+/).filter(Boolean);
  const text = textOf(row.original);
  return terms.every((t) => text.includes(t));
};

const byTime =
  (pick: (b: Break) => string): SortingFn<Break> =>
  (a, b) =>
    (Date.parse(pick(a.original)) || 0) - (Date.parse(pick(b.original)) || 0);

/** Priority ascending (1 = most urgent), unassigned last; then escalations first. */
const DISPOSITION_RANK = { ESCALATE: 0, QUEUE: 1, AUTO_CLOSE: 2 } as const;
const byPriority: SortingFn<Break> = (a, b) => {
  const pa = a.original.priority ?? 99;
  const pb = b.original.priority ?? 99;
  if (pa !== pb) return pa - pb;
  const da = a.original.disposition === null ? 9 : DISPOSITION_RANK[a.original.disposition];
  const db = b.original.disposition === null ? 9 : DISPOSITION_RANK[b.original.disposition];
  return da - db;
};

/** Due dates ascending; a break without one sorts after every dated break. */
const byDue: SortingFn<Break> = (a, b) => {
  const at = (x: Break) => (x.due === null ? Infinity : Date.parse(x.due) || Infinity);
  const da = at(a.original);
  const db = at(b.original);
  return da === db ? 0 : da < db ? -1 : 1;
};

/** Materiality is exact decimal text: ordered as decimals, never as floats. */
const byMateriality: SortingFn<Break> = (a, b) => compareDecimal(a.original.materiality, b.original.materiality);

const bucketClass = (bucket: Break['ageing_bucket']): string =>
  bucket === null ? 'none' : bucket === '>7' ? 'over7' : bucket.replace('-', '_');

const col = createColumnHelper<Break>();

const columns = [
  col.accessor('status', {
    header: 'Status',
    size: 88,
    cell: (c) => <StatusTag status={c.getValue()} />,
  }),
  col.accessor('kind', { header: 'Kind', size: 90, cell: (c) => <KindTag kind={c.getValue()} /> }),
  col.accessor('recon', { header: 'Recon', size: 92 }),
  col.accessor((b) => formatKey(b.key), {
    id: 'key',
    header: 'Key',
    size: 200,
    cell: (c) => (
      <span className="mono" title={c.getValue()}>
        {c.getValue()}
      </span>
    ),
  }),
  col.accessor((b) => b.fields.length, {
    id: 'fields',
    header: 'Differences',
    size: 330,
    cell: (c) => {
      const fields = c.row.original.fields;
      if (fields.length === 0) return <span className="muted">—</span>;
      return (
        <span className="diffs mono" title={fields.map(formatFieldDiff).join('\n')}>
          {fields.map((f, i) => (
            <span key={f.field} className="diff">
              {i > 0 ? '; ' : ''}
              {formatFieldDiff(f)}
            </span>
          ))}
        </span>
      );
    },
  }),
  col.accessor((b) => b.missing_in ?? '', {
    id: 'missing_in',
    header: 'Missing in',
    size: 92,
    cell: (c) => (c.getValue() ? <span className="missing-in">{c.getValue()}</span> : <span className="muted">—</span>),
  }),
  col.accessor((b) => b.cause ?? '~', {
    id: 'cause',
    header: 'Cause',
    size: 218,
    cell: (c) => <CauseTag cause={c.row.original.cause} confidence={c.row.original.confidence} />,
  }),
  col.accessor((b) => b.priority ?? 99, {
    id: 'disposition',
    header: 'Disposition',
    size: 128,
    sortingFn: byPriority,
    cell: (c) => <DispositionTag disposition={c.row.original.disposition} priority={c.row.original.priority} />,
  }),
  col.accessor((b) => b.owner ?? '', {
    id: 'owner',
    header: 'Owner',
    size: 110,
    cell: (c) => (c.getValue() ? <span title={c.getValue()}>{c.getValue()}</span> : <span className="muted">—</span>),
  }),
  col.accessor((b) => b.age_days ?? -1, {
    id: 'age',
    header: 'Age',
    size: 64,
    sortDescFirst: true,
    cell: (c) => {
      const b = c.row.original;
      if (b.age_days === null) return <span className="muted">—</span>;
      return (
        <span className={`num age age-${bucketClass(b.ageing_bucket)}`} title={`${b.age_days} business days (bucket ${b.ageing_bucket ?? '?'})`}>
          {formatAgeDays(b.age_days)}
        </span>
      );
    },
  }),
  col.accessor((b) => b.due ?? '', {
    id: 'due',
    header: 'Due (UTC)',
    size: 150,
    sortingFn: byDue,
    cell: (c) => {
      const b = c.row.original;
      if (b.due === null) return <span className="muted">—</span>;
      const late = isOverdue(b, Date.now());
      return (
        <span className={`num${late ? ' due-overdue' : ''}`} title={late ? `overdue since ${b.due}` : b.due} data-overdue={late}>
          {formatTimestamp(b.due).slice(0, 16)}
          {late && <span className="overdue-tag">overdue</span>}
        </span>
      );
    },
  }),
  col.accessor((b) => b.materiality ?? '', {
    id: 'materiality',
    header: 'Materiality',
    size: 104,
    sortingFn: byMateriality,
    sortDescFirst: true,
    cell: (c) => (c.getValue() ? <span className="num">{c.getValue()}</span> : <span className="muted">—</span>),
  }),
  col.accessor((b) => b.tags.join(' '), {
    id: 'tags',
    header: 'Tags',
    size: 110,
    cell: (c) =>
      c.row.original.tags.length === 0 ? (
        <span className="muted">—</span>
      ) : (
        <span title={c.getValue()}>{c.row.original.tags.join(', ')}</span>
      ),
  }),
  col.accessor((b) => b.close_reason ?? '', {
    id: 'close_reason',
    header: 'Close reason',
    size: 120,
    cell: (c) => (c.getValue() ? <span className="mono">{c.getValue()}</span> : <span className="muted">—</span>),
  }),
  col.accessor('first_seen', {
    id: 'first_seen',
    header: 'First seen (UTC)',
    size: 158,
    sortingFn: byTime((b) => b.first_seen),
    sortDescFirst: true,
    cell: (c) => <span className="num" title={c.getValue()}>{formatTimestamp(c.getValue())}</span>,
  }),
  col.accessor('updated_at', {
    id: 'updated_at',
    header: 'Updated (UTC)',
    size: 158,
    sortingFn: byTime((b) => b.updated_at),
    sortDescFirst: true,
    cell: (c) => <span className="num" title={c.getValue()}>{formatTimestamp(c.getValue())}</span>,
  }),
  col.accessor('version', {
    header: 'Ver',
    size: 52,
    sortDescFirst: true,
    cell: (c) => <span className="num">{c.getValue()}</span>,
  }),
];

export const DEFAULT_SORT: SortingState = [
  { id: 'disposition', desc: false },
  { id: 'updated_at', desc: true },
];

interface Props {
  breaks: Break[];
  search: string;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  changedAt: ReadonlyMap<string, number>;
  loaded: boolean;
  live: boolean;
  synced: boolean;
  onVisibleCount: (n: number) => void;
  /** the rows ticked for a bulk action (omit both to hide the tick column) */
  checked?: ReadonlySet<string> | undefined;
  onCheck?: ((ids: string[], on: boolean) => void) | undefined;
}

export function BreakGrid({ breaks, search, selectedId, onSelect, changedAt, loaded, live, synced, onVisibleCount, checked, onCheck }: Props) {
  const [sorting, setSorting] = useState<SortingState>(DEFAULT_SORT);
  const scrollRef = useRef<HTMLDivElement>(null);

  const table = useReactTable({
    data: breaks,
    columns,
    state: { sorting, globalFilter: search },
    onSortingChange: setSorting,
    globalFilterFn: quickSearch,
    getRowId: (b) => b.break_id,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    columnResizeMode: 'onChange',
    enableSortingRemoval: false,
    isMultiSortEvent: (e) => (e as MouseEvent).shiftKey,
  });

  const rows = table.getRowModel().rows;
  const virtual = rows.length > VIRTUALIZE_ABOVE;
  useEffect(() => onVisibleCount(rows.length), [rows.length, onVisibleCount]);

  const virtualizer = useVirtualizer({
    count: virtual ? rows.length : 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });

  const now = Date.now();
  const renderRow = (row: Row<Break>) => {
    const b = row.original;
    const changed = changedAt.get(b.break_id);
    const cls = [
      'row',
      b.status === 'RESOLVED' || b.status === 'CLOSED' ? 'row-resolved' : '',
      b.disposition === 'ESCALATE' && b.status === 'OPEN' ? 'row-escalated' : '',
      b.break_id === selectedId ? 'row-selected' : '',
      changed !== undefined && now - changed < 4000 ? 'row-flash' : '',
    ]
      .filter(Boolean)
      .join(' ');
    return (
      <tr
        key={row.id}
        className={cls}
        data-break-id={b.break_id}
        data-version={b.version}
        onClick={() => onSelect(b.break_id === selectedId ? null : b.break_id)}
        aria-selected={b.break_id === selectedId}
      >
        {onCheck && (
          <td className="c-select" onClick={(e) => e.stopPropagation()}>
            <input
              type="checkbox"
              aria-label={`Select break ${b.break_id}`}
              data-testid="row-check"
              checked={checked?.has(b.break_id) ?? false}
              onChange={(e) => onCheck([b.break_id], e.target.checked)}
            />
          </td>
        )}
        {row.getVisibleCells().map((cell) => (
          <td key={cell.id} className={`c-${cell.column.id}`}>
            {flexRender(cell.column.columnDef.cell, cell.getContext())}
          </td>
        ))}
      </tr>
    );
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      onSelect(null);
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'j' && e.key !== 'k') return;
    if (rows.length === 0) return;
    e.preventDefault();
    const at = rows.findIndex((r) => r.id === selectedId);
    const step = e.key === 'ArrowDown' || e.key === 'j' ? 1 : -1;
    const nextAt = at === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step));
    const next = rows[nextAt];
    if (next) {
      onSelect(next.id);
      if (virtual) virtualizer.scrollToIndex(nextAt);
      else scrollRef.current?.querySelector(`tr[data-break-id="${CSS.escape(next.id)}"]`)?.scrollIntoView({ block: 'nearest' });
    }
  };

  const items = virtual ? virtualizer.getVirtualItems() : [];
  const padTop = virtual && items.length > 0 ? items[0]!.start : 0;
  const padBottom = virtual && items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const colCount = table.getVisibleLeafColumns().length + (onCheck ? 1 : 0);
  const allChecked = onCheck !== undefined && rows.length > 0 && rows.every((r) => checked?.has(r.id));

  return (
    <div
      className="grid-scroll"
      ref={scrollRef}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-testid="break-grid"
      data-loaded={loaded}
      data-live={live}
      data-synced={synced}
      data-rows={rows.length}
      data-virtualized={virtual}
    >
      <table className="grid" style={{ width: table.getTotalSize() + (onCheck ? 30 : 0), minWidth: '100%' }}>
        <colgroup>
          {onCheck && <col style={{ width: 30 }} />}
          {table.getVisibleLeafColumns().map((c) => (
            <col key={c.id} style={{ width: c.getSize() }} />
          ))}
        </colgroup>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {onCheck && (
                <th className="c-select">
                  <input
                    type="checkbox"
                    aria-label="Select every row shown"
                    data-testid="check-all"
                    checked={allChecked}
                    onChange={(e) => onCheck(rows.map((r) => r.id), e.target.checked)}
                  />
                </th>
              )}
              {hg.headers.map((h) => {
                const sorted = h.column.getIsSorted();
                const sortIdx = h.column.getSortIndex();
                return (
                  <th
                    key={h.id}
                    className={`c-${h.column.id}${sorted ? ' sorted' : ''}`}
                    aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                  >
                    <button
                      type="button"
                      className="th-btn"
                      onClick={h.column.getToggleSortingHandler()}
                      title="Sort (shift-click to add a secondary sort)"
                    >
                      {flexRender(h.column.columnDef.header, h.getContext())}
                      <span className="sort-mark">
                        {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                        {sorted && sorting.length > 1 ? <sub>{sortIdx + 1}</sub> : null}
                      </span>
                    </button>
                    <span
                      className={`resizer${h.column.getIsResizing() ? ' resizing' : ''}`}
                      onMouseDown={h.getResizeHandler()}
                      onTouchStart={h.getResizeHandler()}
                      onClick={(e) => e.stopPropagation()}
                    />
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr className="pad" aria-hidden>
              <td colSpan={colCount} style={{ height: padTop }} />
            </tr>
          )}
          {virtual ? items.map((vi) => renderRow(rows[vi.index]!)) : rows.map(renderRow)}
          {padBottom > 0 && (
            <tr className="pad" aria-hidden>
              <td colSpan={colCount} style={{ height: padBottom }} />
            </tr>
          )}
        </tbody>
      </table>
      {loaded && rows.length === 0 && (
        <div className="empty" data-testid="grid-empty">
          {breaks.length === 0 ? 'No breaks in this view.' : 'No breaks match the search.'}
        </div>
      )}
      {!loaded && <div className="empty">Loading breaks…</div>}
    </div>
  );
}

