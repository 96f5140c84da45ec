import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';

/**
 * The redaction paths of src/logger.ts catch secrets, signatures, what people said and their
 * names in the shapes code is likely to log: top-level fields, objects one level down, the
 * frozen config, request headers, raw RTMS messages. test/integration/ops/logRedaction.test.ts
 * scans a full run's real output.
 */

const SECRET = 'S3CRET-value-never-logged';

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), text: () => chunks.join('') };
}

const SHAPES: Record<string, Record<string, unknown>> = {
  'config credentials and admin token': {
    config: { credentials: { clientId: 'id', clientSecret: SECRET, webhookSecretToken: SECRET }, adminToken: SECRET },
  },
  'credentials object': { credentials: { clientSecret: SECRET, webhookSecretToken: SECRET } },
  'top-level secrets': { clientSecret: SECRET, webhookSecretToken: SECRET, adminToken: SECRET, secret: SECRET, secretToken: SECRET },
  'nested secrets': { options: { secret: SECRET, secretToken: SECRET, adminToken: SECRET } },
  'request headers': { headers: { authorization: `Bearer ${SECRET}`, 'x-zm-signature': `v0=${SECRET}` } },
  'request with headers': { request: { headers: { authorization: `Bearer ${SECRET}`, 'x-zm-signature': `v0=${SECRET}` } } },
  'authorization field': { authorization: `Bearer ${SECRET}`, auth: { authorization: `Bearer ${SECRET}` } },
  'handshake request': { request: { msg_type: 1, rtms_stream_id: 'abc', signature: SECRET } },
  'top-level signature': { signature: SECRET },
  'url validation answer': { answer: { plainToken: 'plain', encryptedToken: SECRET } },
  'transcript line': { text: SECRET, userName: SECRET },
  'transcript record': { line: { userId: '1', userName: SECRET, text: SECRET } },
  'raw transcript message': { msg_type: 17, content: { user_id: 1, user_name: SECRET, data: SECRET } },
  'nested raw message': { message: { msg_type: 17, content: { user_id: 1, user_name: SECRET, data: SECRET } } },
  'participant list': {
    participants: [
      { userId: 1, userName: SECRET },
      { user_id: 2, user_name: SECRET },
    ],
  },
};

describe('logger redaction', () => {
  it.each(Object.entries(SHAPES))('redacts %s', (_name, fields) => {
    const { logger, text } = capture();
    logger.info(fields, 'shape');
    logger.child({ rtmsStreamId: 'abc' }).warn(fields, 'shape from a child');
    const output = text();
    expect(output).toContain('[redacted]');
    expect(output).not.toContain(SECRET);
  });

  it('keeps the fields operators need', () => {
    const { logger, text } = capture();
    logger.info({ rtmsStreamId: 'abc', userId: '16778240', code: 'EEXIST', reason: 'media_closed' }, 'kept');
    const entry = JSON.parse(text()) as Record<string, unknown>;
    expect(entry).toMatchObject({ rtmsStreamId: 'abc', userId: '16778240', code: 'EEXIST', reason: 'media_closed', msg: 'kept' });
  });
});
