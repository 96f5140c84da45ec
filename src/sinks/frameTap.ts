import type { Frame, LifecycleEvent } from '../vocabulary/frame.ts';

/**
 * A best-effort secondary output beside the stream's accounted sink: live consumers, Redis
 * streams. It gets every frame the stream writes and every event, never pushes back, and
 * counts what it cannot deliver itself. The file sink alone carries the stream's accounting.
 */
export interface FrameTap {
  frame(frame: Frame): void;
  event(event: LifecycleEvent): void;
  /** The stream ended: deliver what is pending now. */
  flush(): void;
}
