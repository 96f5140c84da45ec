/** Frames of one kind dropped for one reason, as a `media.gap` marker reports them. */
export interface DroppedRange {
  frames: number;
  /** Server timestamps of the earliest and latest dropped frame, ms epoch. */
  fromTimestamp: number;
  toTimestamp: number;
}

/** `range` widened by one more dropped frame stamped `timestamp`; a new range when there is none yet. */
export function widenDroppedRange(range: DroppedRange | undefined, timestamp: number): DroppedRange {
  if (range === undefined) return { frames: 1, fromTimestamp: timestamp, toTimestamp: timestamp };
  range.frames += 1;
  range.fromTimestamp = Math.min(range.fromTimestamp, timestamp);
  range.toTimestamp = Math.max(range.toTimestamp, timestamp);
  return range;
}
