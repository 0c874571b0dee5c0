/** A tiny history router: paths under `{BASE}`, links that navigate without a reload. */
import { useEffect, useState } from 'preact/hooks';
import { BASE } from './api.ts';

const listeners = new Set<() => void>();
addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** The path below BASE: `/movies`, `/movies/12`. */
export const currentPath = () => location.pathname.slice(BASE.length) || '/';

export function navigate(to: string): void {
  history.pushState(null, '', BASE + to);
  for (const l of listeners) l();
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const l = () => setPath(currentPath());
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return path;
}

/** A click on an in-app link (no modifier, left button) navigates in place. */
export function onLinkClick(e: MouseEvent, to: string): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
