import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { NatsUnavailableError } from '../../../application/errors/broker-errors';

/**
 * Why NATS would not let us in, when waiting cannot cure it (docs/nats-security.md): the caller
 * turns this into a message naming the settings to fix.
 */
export type NatsRefusal =
  /** The server refused our user/password or credentials, or asked for some we did not give. */
  | 'authentication'
  /** We do not trust the server's certificate (unknown CA, expired, wrong host name). */
  | 'server-certificate'
  /** The server refused our client certificate, or wanted one we did not give. */
  | 'client-certificate'
  /** TLS is configured but the server does not offer it. */
  | 'tls-not-offered'
  /** Another TLS failure (an unreadable key, no common protocol version). */
  | 'tls';

export class NatsRefusedError extends NatsUnavailableError {
  constructor(
    message: string,
    readonly refusal: NatsRefusal,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

const AUTHENTICATION_CODES = new Set(['AUTHORIZATION_VIOLATION', 'AUTHENTICATION_EXPIRED', 'AUTHENTICATION_TIMEOUT', 'ACCOUNT_EXPIRED', 'BAD_AUTHENTICATION', 'BAD_CREDS']);
/** Node's codes for a server certificate it cannot verify. */
const SERVER_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** TLS alerts a server sends about the client's certificate (OpenSSL names them "sslv3 alert bad certificate" and so on). */
const CLIENT_CERTIFICATE_ALERT = /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/;

const codeOf = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');

/** The refusal `error` (from nats.js `connect`) stands for, or null when it is not one. */
export function refusalOf(error: unknown): NatsRefusal | null {
  const code = codeOf(error);
  if (AUTHENTICATION_CODES.has(code)) return 'authentication';
  if (SERVER_CERTIFICATE_CODES.has(code)) return 'server-certificate';
  if (CLIENT_CERTIFICATE_ALERT.test(code)) return 'client-certificate';
  if (code === 'SERVER_OPT_NA' && (error as Error).message === 'tls') return 'tls-not-offered';
  if (code === 'TLS' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) return 'tls';
  return null;
}

export interface TlsFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  readonly minVersion?: tls.SecureVersion;
}

const PROBE_TIMEOUT_MS = 2000;
const MIN_LISTEN_MS = 50;

/**
 * With TLS 1.3 a server that refuses the client's certificate does so after the client has
 * finished its handshake: nats.js then sees a reset or nothing at all and reports a TIMEOUT (after
 * its 20 s connect timeout), which looks like a slow network and would be retried forever. This
 * probe does the handshake on a socket of its own and listens for a moment (twice the handshake's
 * duration, at least 50 ms: the server answers within one round trip) without sending anything,
 * so the server logs nothing: an alert or reset then means the certificate was refused, and its
 * code is returned. null: anything else (no TLS offered, unreachable, slow, nothing heard).
 */
export async function probeClientCertificateRefusal(server: string, files: TlsFiles | undefined): Promise<string | null> {
  const { host, port } = hostPort(server);
  const startedAt = performance.now();
  const socket = net.connect({ host, port });
  socket.setTimeout(PROBE_TIMEOUT_MS);
  try {
    const info = await firstLine(socket);
    const offers = /"tls_required"\s*:\s*true/.test(info) || (files !== undefined && /"tls_available"\s*:\s*true/.test(info));
    if (!info.startsWith('INFO ') || !offers) return null;
    return await handshakeThenListen(socket, host, files, startedAt);
  } catch {
    return null; // unreachable or slow: the caller's retry handles it
  } finally {
    socket.destroy();
  }
}

function hostPort(server: string): { host: string; port: number } {
  const url = new URL(/^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 4222 : Number(url.port) };
}

function firstLine(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end < 0 && text.length < 64 * 1024) return;
      socket.off('data', onData);
      resolve(end < 0 ? text : text.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('timeout', () => reject(new Error('timeout')));
    socket.once('close', () => reject(new Error('closed')));
  });
}

function handshakeThenListen(socket: net.Socket, host: string, files: TlsFiles | undefined, startedAt: number): Promise<string | null> {
  return new Promise((resolve) => {
    const secure = tls.connect({
      socket,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ...(files?.certFile ? { cert: readFileSync(files.certFile) } : {}),
      ...(files?.keyFile ? { key: readFileSync(files.keyFile) } : {}),
      ...(files?.caFile ? { ca: [readFileSync(files.caFile)] } : {}),
      ...(files?.minVersion ? { minVersion: files.minVersion } : {}),
    });
    let handshaken = false;
    let timer = setTimeout(() => finish(null), PROBE_TIMEOUT_MS);
    const finish = (verdict: string | null): void => {
      clearTimeout(timer);
      secure.destroy();
      resolve(verdict);
    };
    secure.once('secureConnect', () => {
      handshaken = true;
      clearTimeout(timer);
      const listenMs = Math.min(PROBE_TIMEOUT_MS, Math.max(MIN_LISTEN_MS, 2 * (performance.now() - startedAt)));
      timer = setTimeout(() => finish(null), listenMs);
    });
    secure.once('data', () => finish(null));
    secure.once('error', (error) => {
      const code = codeOf(error);
      // Before the handshake ended it is nats.js's own (not retried) error; after it, a refusal.
      finish(CLIENT_CERTIFICATE_ALERT.test(code) || (handshaken && (code === 'ECONNRESET' || code === 'EPIPE')) ? code : null);
    });
    secure.once('close', () => finish(handshaken ? 'the connection was closed' : null));
  });
}
