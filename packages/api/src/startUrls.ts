/**
 * Where a person finds Metarr once it listens: the jobs page and the API docs, with the base path. A
 * wildcard listen address is shown as localhost, the address a browser on this machine can open.
 */
export function startUrls(address: string, basePath: string): { jobsPage: string; apiDocs: string } {
  const url = new URL(address);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = 'localhost';
  const base = `${url.origin}${basePath}`;
  return { jobsPage: `${base}/`, apiDocs: `${base}/api/docs` };
}
