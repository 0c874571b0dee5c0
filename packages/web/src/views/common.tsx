import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { Movie } from '../types.ts';

/** How a movie is named everywhere: `Title (Year)`, or its folder name before it has a title. */
export function movieName(m: Pick<Movie, 'title' | 'year' | 'path'>): string {
  const title = m.title || m.path.split(/[\\/]/).filter(Boolean).pop() || 'Untitled';
  return m.year ? `${title} (${m.year})` : title;
}

/** A published image, loaded with the API key (see api.image); text-only alt. */
export function ApiImage(props: {
  movieId: number;
  type: string;
  width?: number;
  alt: string;
  class?: string;
  version?: number;
}) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setSrc(null);
    void api.image(props.movieId, props.type, props.width).then((u) => live && setSrc(u));
    return () => {
      live = false;
    };
  }, [props.movieId, props.type, props.width, props.version]);
  if (!src) return <div class={`noimage ${props.class ?? ''}`} aria-hidden="true" />;
  return <img class={props.class} src={src} alt={props.alt} decoding="async" />;
}
