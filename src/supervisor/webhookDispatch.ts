import type { WebhookEvent } from '../http/webhookEvent.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { SupervisorEvents } from './supervisorTypes.ts';

/** What a verified webhook can ask of the supervisor. */
export interface WebhookTarget {
  started(start: StreamStart): void;
  interrupt(rtmsStreamId: string, eventTs: number, eventName: string): void;
  stop(rtmsStreamId: string, stopReason: number, eventName: string): void;
  zoomConcurrency(state: SupervisorEvents['zoomConcurrency'][0]): void;
  readonly logger: Logger;
}

/** Routes a verified webhook to the supervisor; account-level notices are logged and emitted. */
export function dispatchWebhook(event: WebhookEvent, target: WebhookTarget): void {
  switch (event.kind) {
    case 'started':
      target.started(event.start);
      return;
    case 'interrupted':
      target.interrupt(event.rtmsStreamId, event.eventTs, event.event);
      return;
    case 'stopped':
      target.stop(event.rtmsStreamId, event.stopReason, event.event);
      return;
    case 'concurrencyNearLimit':
      target.zoomConcurrency({ limited: false, concurrencyNumber: event.concurrencyNumber, concurrencyLimit: event.concurrencyLimit });
      target.logger.warn(
        { concurrencyLimit: event.concurrencyLimit, concurrencyNumber: event.concurrencyNumber, percentage: event.percentage },
        'Zoom account is near its RTMS concurrency limit',
      );
      return;
    case 'concurrencyLimited':
      target.zoomConcurrency({ limited: true, concurrencyNumber: event.concurrencyNumber, concurrencyLimit: undefined });
      target.logger.error({ concurrencyNumber: event.concurrencyNumber }, 'Zoom account hit its RTMS concurrency limit; a stream could not start');
      return;
    case 'urlValidation':
      return;
    default: {
      const unknown: never = event;
      target.logger.error({ event: unknown }, 'unhandled webhook kind');
    }
  }
}
