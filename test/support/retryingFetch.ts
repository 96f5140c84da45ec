/**
 * `fetch` for idempotent requests (GET, DELETE) that tries once more when a kept-alive
 * connection it reused was closed under it. A server may close an idle keep-alive connection at
 * any moment (the connector's HTTP_MAX_CONNECTIONS cap evicts the longest-idle one first, see
 * docs/security.md), and a request sent on it at that instant fails with ECONNRESET before any
 * answer; HTTP lets a client repeat an idempotent request then, and real clients do.
 */
const CLOSED_UNDER_US = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export async function retryingFetch(url: string, init: RequestInit & { method?: 'GET' | 'DELETE' } = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = ((error as { cause?: { code?: unknown } }).cause?.code ?? '') as string;
    if (!(error instanceof TypeError) || !CLOSED_UNDER_US.has(code)) throw error;
    return fetch(url, init);
  }
}
