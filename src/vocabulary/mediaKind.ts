/** The media a stream carries, as `RTMS_MEDIA`, file names, metrics and live subscriptions spell them. */
export const MEDIA_KINDS = ['audio', 'video', 'deskshare', 'transcript', 'chat'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];
