import type { MediaKind } from './mediaKind.ts';
import type { Frame, LifecycleEvent } from './frame.ts';

/**
 * One item of a live batch: a frame (its bytes at `offset`/`length` in the batch payload) or
 * a lifecycle event. Shared by the worker (producer) and the live hub (consumer).
 */
export type LiveItem =
  | (Pick<Frame, 'userId' | 'userName' | 'timestamp' | 'startTime' | 'endTime' | 'language'> & {
      readonly type: MediaKind;
      readonly offset: number;
      readonly length: number;
    })
  | { readonly type: 'event'; readonly event: LifecycleEvent };

export interface LiveBatch {
  readonly rtmsStreamId: string;
  readonly items: readonly LiveItem[];
  /** Every frame's bytes, back to back; transferred, not copied, across threads. */
  readonly payload: ArrayBuffer;
}
