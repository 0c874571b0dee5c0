/**
 * The card grid the Movies and Series views share. Virtualized: only the rows in view (plus one above
 * and below) are in the DOM, so 5,000 items cost as much as 30. Arrow keys, Home and End move between
 * cards; Tab works too (the browser scrolls the focused card into view, which renders the next row).
 * A card's focusable element carries `data-index` (see `cardIndex`).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';

const CARD_W = 160;
const GAP = 16;
const OVERSCAN = 1;

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Props for a card's focusable element: the grid's keyboard handling finds cards by it. */
export const cardIndex = (i: number) => ({ 'data-index': i });

export function VirtualGrid<T extends { id: number }>(props: {
  items: T[];
  label: string;
  rowHeight: number;
  card: (item: T, index: number) => ComponentChildren;
}) {
  const { items, rowHeight: ROW_H } = props;
  const box = useRef<HTMLUListElement>(null);
  const [cols, setCols] = useState(6);
  const [range, setRange] = useState<[number, number]>([0, 6]);
  const pendingFocus = useRef<number | null>(null);
  const rows = Math.ceil(items.length / cols);

  useLayoutEffect(() => {
    const measure = () => {
      const el = box.current;
      if (!el) return;
      const c = Math.max(1, Math.floor((el.clientWidth + GAP) / (CARD_W + GAP)));
      const top = el.getBoundingClientRect().top;
      const first = Math.max(0, Math.floor(-top / ROW_H) - OVERSCAN);
      const last = Math.ceil((innerHeight - top) / ROW_H) + OVERSCAN;
      setCols(c);
      setRange((r) => (r[0] === first && r[1] === last ? r : [first, last]));
    };
    measure();
    addEventListener('scroll', measure, { passive: true });
    addEventListener('resize', measure);
    return () => {
      removeEventListener('scroll', measure);
      removeEventListener('resize', measure);
    };
  }, [ROW_H]);

  useEffect(() => {
    const i = pendingFocus.current;
    if (i === null) return;
    const el = box.current?.querySelector<HTMLElement>(`[data-index="${i}"]`);
    if (el) {
      pendingFocus.current = null;
      el.focus();
    }
  });

  const visible = useMemo(() => {
    const from = Math.max(0, range[0]) * cols;
    const to = Math.min(rows, range[1] + 1) * cols;
    return items.slice(from, to).map((item, k) => ({ item, i: from + k }));
  }, [items, cols, rows, range]);

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const at = Number(target.dataset['index']);
    if (!Number.isInteger(at)) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols }[e.key] ?? 0;
    let to = at + step;
    if (e.key === 'Home') to = 0;
    if (e.key === 'End') to = items.length - 1;
    if (to === at || to < 0 || to >= items.length) return;
    e.preventDefault();
    const el = box.current?.querySelector<HTMLElement>(`[data-index="${to}"]`);
    const row = Math.floor(to / cols);
    const top = (box.current?.getBoundingClientRect().top ?? 0) + scrollY + row * ROW_H;
    if (top < scrollY || top + ROW_H > scrollY + innerHeight)
      scrollTo({ top: Math.max(0, top - (innerHeight - ROW_H) / 2) });
    if (el) el.focus({ preventScroll: true });
    else pendingFocus.current = to;
  };

  return (
    <ul
      ref={box}
      class="grid"
      aria-label={props.label}
      onKeyDown={onKeyDown}
      style={{ height: `${rows * ROW_H}px`, '--cols': String(cols) }}
    >
      {visible.map(({ item, i }) => (
        <li
          key={item.id}
          class="card"
          style={{
            transform: `translate(${(i % cols) * (CARD_W + GAP)}px, ${Math.floor(i / cols) * ROW_H}px)`,
          }}
        >
          {props.card(item, i)}
        </li>
      ))}
    </ul>
  );
}
