import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, unlink, link, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { SimulatorError } from './simulatorErrors.ts';

/*
 * The stand-in's TLS: a private certificate authority, kept in a directory so that a client
 * can trust it once (NODE_EXTRA_CA_CERTS=<dir>/ca.pem), and a server certificate for
 * 127.0.0.1, ::1 and localhost signed by it, made afresh at every start (EC P-256: a few ms).
 * Zoom's RTMS servers are reached only over wss:// (docs/protocol.md#joining-a-stream).
 */

/** Key and certificate chain for `https.createServer`, and the CA file a client trusts. */
export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** PEM file of the CA that signed `cert`: give it to clients as NODE_EXTRA_CA_CERTS. */
  readonly caCertPath: string;
}

/** Default CA directory: shared by every stand-in on this machine, so a client trusts it once. */
export const DEFAULT_TLS_DIR = path.join(os.tmpdir(), 'rtms-simulator-tls');

const CA_BUNDLE = 'ca-bundle.json';
const CA_CERT = 'ca.pem';
const CA_VALID_DAYS = 825;
const SERVER_VALID_DAYS = 30;
/** A cached CA this close to expiry is replaced. */
const CA_RENEW_BEFORE_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

interface CaBundle {
  readonly key: string;
  readonly cert: string;
}

/**
 * The CA from `dir` (created there on first use) and a fresh server certificate signed by it.
 * Concurrent starts on one directory agree on one CA: it is published with an atomic
 * link that fails when another process won the race, and the loser reads the winner's.
 */
export async function loadTlsMaterial(dir: string = DEFAULT_TLS_DIR): Promise<TlsMaterial> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ca = await loadOrCreateCa(dir);
    const caCertPath = path.join(dir, CA_CERT);
    await writeAtomically(caCertPath, ca.cert, 0o644);
    const server = await selfsigned.generate([{ name: 'commonName', value: 'rtms-simulator' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 60_000),
      notAfterDate: new Date(Date.now() + SERVER_VALID_DAYS * DAY_MS),
      ca: { key: ca.key, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    return { key: server.private, cert: server.cert, caCertPath };
  } catch (error) {
    if (error instanceof SimulatorError) throw error;
    throw new SimulatorError('TLS_SETUP_FAILED', `could not prepare the TLS certificates in ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function loadOrCreateCa(dir: string): Promise<CaBundle> {
  const bundlePath = path.join(dir, CA_BUNDLE);
  const cached = await readCa(bundlePath);
  if (cached !== undefined) return cached;
  const created = await createCa();
  const temp = `${bundlePath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, JSON.stringify(created), { mode: 0o600 });
  try {
    // An unusable bundle (expired, damaged) is replaced; otherwise the first writer wins.
    if ((await readCa(bundlePath, true)) === 'unusable') await rename(temp, bundlePath);
    else await link(temp, bundlePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  const winner = await readCa(bundlePath);
  if (winner === undefined) throw new SimulatorError('TLS_SETUP_FAILED', `the CA in ${bundlePath} is unusable`);
  return winner;
}

async function readCa(bundlePath: string): Promise<CaBundle | undefined>;
async function readCa(bundlePath: string, state: true): Promise<'missing' | 'unusable' | 'usable'>;
async function readCa(bundlePath: string, state = false): Promise<CaBundle | undefined | 'missing' | 'unusable' | 'usable'> {
  let text: string;
  try {
    text = await readFile(bundlePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return state ? 'missing' : undefined;
  }
  let bundle: CaBundle | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<CaBundle>;
    if (typeof parsed.key === 'string' && typeof parsed.cert === 'string') {
      const cert = new X509Certificate(parsed.cert);
      if (cert.ca && Date.parse(cert.validTo) - Date.now() > CA_RENEW_BEFORE_MS) bundle = { key: parsed.key, cert: parsed.cert };
    }
  } catch {
    bundle = undefined;
  }
  if (state) return bundle === undefined ? 'unusable' : 'usable';
  return bundle;
}

async function createCa(): Promise<CaBundle> {
  const ca = await selfsigned.generate([{ name: 'commonName', value: `rtms-simulator local CA ${randomBytes(4).toString('hex')}` }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + CA_VALID_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { key: ca.private, cert: ca.cert };
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, content, { mode });
  await rename(temp, file);
}
