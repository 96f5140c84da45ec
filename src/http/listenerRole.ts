/**
 * What one HTTP listener serves. With `INTERNAL_PORT` the connector has two: `public` (the
 * only one a reverse proxy should forward, for Zoom) serves the webhook and the probes;
 * `internal` serves the probes, `/metrics`, the admin API and live feeds. Without it one
 * listener serves `all`.
 */
export const LISTENER_ROLES = ['all', 'public', 'internal'] as const;
export type ListenerRole = (typeof LISTENER_ROLES)[number];

export const ROUTE_GROUPS = ['webhook', 'probe', 'metrics', 'admin'] as const;
/** `admin`: `/streams…`, including the live WebSocket feeds. */
export type RouteGroup = (typeof ROUTE_GROUPS)[number];

export function serves(role: ListenerRole, group: RouteGroup): boolean {
  switch (role) {
    case 'all':
      return true;
    case 'public':
      return group === 'webhook' || group === 'probe';
    case 'internal':
      return group !== 'webhook';
  }
}
