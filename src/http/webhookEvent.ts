import type { Product, StreamStart } from '../rtms/products.ts';

/** A verified, parsed Zoom webhook (docs/protocol.md#webhooks). */
export type WebhookEvent =
  | { readonly kind: 'urlValidation'; readonly event: string; readonly plainToken: string }
  | { readonly kind: 'started'; readonly event: string; readonly eventTs: number; readonly start: StreamStart }
  | {
      readonly kind: 'interrupted';
      readonly event: string;
      readonly eventTs: number;
      readonly product: Product;
      readonly rtmsStreamId: string;
      readonly entityId: string;
    }
  | {
      readonly kind: 'stopped';
      readonly event: string;
      readonly eventTs: number;
      readonly product: Product;
      readonly rtmsStreamId: string;
      readonly entityId: string;
      readonly stopReason: number;
    }
  | {
      readonly kind: 'concurrencyNearLimit';
      readonly event: string;
      readonly eventTs: number;
      readonly concurrencyLimit: number;
      readonly concurrencyNumber: number;
      readonly percentage: number;
    }
  | {
      readonly kind: 'concurrencyLimited';
      readonly event: string;
      readonly eventTs: number;
      readonly concurrencyNumber: number;
      readonly operatorId?: string;
      /** The entity that could not start: its key and id. */
      readonly entity?: { readonly key: string; readonly id: string };
    };
