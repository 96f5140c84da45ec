/** The package's entry: the simulator, its stream handle and options, and the message builders tests reuse. */
export * from './simulator.ts';
export { UNKNOWN_MSG_TYPES, malformedVariantsFor } from './chaosMessages.ts';
export { lifecycleWebhookBody, urlValidationBody } from './webhookBodies.ts';
export { Prng, deriveSeed } from './prng.ts';
export { type TlsMaterial, DEFAULT_TLS_DIR, loadTlsMaterial } from './tlsMaterial.ts';
