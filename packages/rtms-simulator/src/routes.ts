import type { Channel } from './peerSocket.ts';

/** Which endpoint a WebSocket URL names: signaling or media, of which failover generation. */
export interface Route {
  readonly channel: Channel;
  /** 1 for `/signaling` and `/media/<kind>`; N for `/signaling-N` and `/media-N/<kind>`. */
  readonly generation: number;
}

const MEDIA_PATH_KINDS = new Set(['audio', 'video', 'deskshare', 'transcript', 'chat', 'all']);

/** The route of a request path, or undefined when it names no endpoint of the simulator. */
export function matchRoute(pathname: string): Route | undefined {
  const signaling = /^\/signaling(?:-(\d+))?\/?$/.exec(pathname);
  if (signaling !== null) return { channel: 'signaling', generation: signaling[1] === undefined ? 1 : Number(signaling[1]) };
  const media = /^\/media(?:-(\d+))?\/([a-z]+)\/?$/.exec(pathname);
  if (media !== null && MEDIA_PATH_KINDS.has(media[2] ?? '')) {
    return { channel: 'media', generation: media[1] === undefined ? 1 : Number(media[1]) };
  }
  return undefined;
}
