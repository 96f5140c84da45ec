import type { MediaKind } from './mediaKind.ts';
import type { LifecycleEvent } from './frame.ts';

/**
 * One item of a live batch: a frame (its bytes at `offset`/`length` in the batch payload) or
 * a lifecycle event. Shared by the worker (producer) and the live hub (consumer).
 */
export type LiveItem =
  | {
      readonly type: MediaKind;
      readonly userId: string;
      readonly userName: string | undefined;
      /** Server time, ms epoch. */
      readonly timestamp: number;
      readonly offset: number;
      readonly length: number;
      readonly startTime?: number | undefined;
      readonly endTime?: number | undefined;
      readonly language?: number | undefined;
    }
  | { readonly type: 'event'; readonly event: LifecycleEvent };

export interface LiveBatch {
  readonly rtmsStreamId: string;
  readonly items: readonly LiveItem[];
  /** Every frame's bytes, back to back; transferred, not copied, across threads. */
  readonly payload: ArrayBuffer;
}
