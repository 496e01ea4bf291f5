// `jwt` security definitions: the checks of their config, and the verification of tokens with jose.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ValidationError } from '../errors/index.js';
import { DEFAULT_CLOCK_TOLERANCE, type JwtAlgorithm, type SecurityInput } from './config.js';

const HMAC: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512'];
const RSA: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const ASYMMETRIC: readonly JwtAlgorithm[] = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** RFC 7518 §3.2: an HMAC key at least as long as the hash; 32 bytes is HS256's. */
const MIN_SECRET_BYTES = 32;
/** The largest JWKS document read; a bigger one fails verification. */
const MAX_JWKS_BYTES = 256 * 1024;

/**
 * How a JWKS is fetched and cached: a fetch times out after `timeoutMs`; the set is refetched when a token names
 * an unknown `kid` (at most once per `cooldownMs`) or when it is older than `cacheMaxAgeMs`; after a fetch that
 * failed (unreachable, not 200, not a JWKS, too big, too slow) none is made for `failureBackoffMs`, so tokens sent
 * meanwhile cannot make the server fetch once each. While fetches fail, the last set fetched is used for
 * `staleIfErrorMs` after it was fetched (an identity provider that is down for a while does not refuse every
 * login; a rotated key still needs a fetch that works). Mutable so that tests can shorten them; the server never
 * changes them.
 */
export const JWKS_TIMING = {
  timeoutMs: 5000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  failureBackoffMs: 5000,
  staleIfErrorMs: 3_600_000,
};

/** The `jwt` fields of a stored definition (the HMAC secret is stored sealed, beside them). */
export interface JwtSettings {
  publicKey?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string[];
  algorithms: JwtAlgorithm[];
  clockTolerance: number;
}

/** What checking credentials found: for a JWT its claims and when the session must end (ms, tolerance included). */
export type AuthResult =
  | { readonly ok: true; readonly claims?: Readonly<JWTPayload>; readonly expiresAt?: number | undefined }
  | { readonly ok: false; readonly reason: string };

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid_input', message, { field });
}

/** The public key of a PEM (SPKI or X.509 certificate); a private key is refused so that it is never stored. */
function publicKeyOf(pem: string): KeyObject {
  if (/PRIVATE KEY/.test(pem)) throw invalid('publicKey', 'publicKey must be a public key or certificate, not a private key');
  try {
    return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch {
    throw invalid('publicKey', 'publicKey is not a PEM public key (SPKI) or X.509 certificate');
  }
}

/** The algorithms a public key can verify: its family alone, so that no token can pick another (alg confusion). */
function familyOf(key: KeyObject): readonly JwtAlgorithm[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA;
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['ES256'];
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      break;
    }
    case 'ed25519':
    case 'ed448':
      return ['EdDSA'];
  }
  throw invalid('publicKey', `publicKey is a ${key.asymmetricKeyType ?? 'unknown'} key, which no JWS algorithm uses here`);
}

function algorithmsFor(input: SecurityInput, family: readonly JwtAlgorithm[], kind: string): JwtAlgorithm[] {
  if (!input.algorithms) return [...family];
  const wrong = input.algorithms.find((a) => !family.includes(a as JwtAlgorithm));
  if (wrong?.toLowerCase() === 'none') throw invalid('algorithms', 'algorithms: none (unsigned tokens) is never accepted');
  if (wrong) throw invalid('algorithms', `algorithms: ${wrong} cannot be used with ${kind} (allowed: ${family.join(', ')})`);
  return input.algorithms as JwtAlgorithm[];
}

function checkedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('jwksUrl', 'jwksUrl is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('jwksUrl', 'jwksUrl must be an http or https URL');
  // fetch() refuses such a URL (every token would fail), and the definition's view would show the password.
  if (url.username || url.password) throw invalid('jwksUrl', 'jwksUrl must not have a user name or password in it');
  return url.href;
}

/**
 * Checks the `jwt` fields of an admin API body and returns what is stored. `secret` is the HMAC key given now or
 * kept from before (undefined when the definition has none); exactly one of secret, publicKey, jwksUrl is allowed.
 */
export function checkJwtInput(input: SecurityInput, secret: string | undefined): JwtSettings {
  if (input.password !== undefined) throw invalid('password', 'A jwt definition takes its HMAC key as secret, not password');
  const given = [
    secret !== undefined && 'secret',
    input.publicKey !== undefined && 'publicKey',
    input.jwksUrl !== undefined && 'jwksUrl',
  ];
  const kinds = given.filter((k): k is string => k !== false);
  if (kinds.length !== 1)
    throw invalid(kinds[1] ?? 'secret', 'A jwt definition needs exactly one of secret, publicKey or jwksUrl');
  const settings: JwtSettings = { algorithms: [], clockTolerance: input.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE };
  if (input.issuer !== undefined) settings.issuer = input.issuer;
  if (input.audience !== undefined) settings.audience = [...input.audience];
  if (secret !== undefined) {
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES)
      throw invalid('secret', `An HMAC secret must be at least ${MIN_SECRET_BYTES} bytes`);
    settings.algorithms = algorithmsFor(input, HMAC, 'an HMAC secret');
  } else if (input.publicKey !== undefined) {
    settings.publicKey = input.publicKey;
    settings.algorithms = algorithmsFor(input, familyOf(publicKeyOf(input.publicKey)), 'this publicKey');
  } else {
    settings.jwksUrl = checkedUrl(input.jwksUrl!);
    settings.algorithms = algorithmsFor(input, ASYMMETRIC, 'a JWKS (asymmetric keys only)');
  }
  return settings;
}

function tooBig(url: string): Error {
  return new Error(`The JWKS at ${url} is over ${MAX_JWKS_BYTES} bytes`);
}

// What jose's fetch would read, checked here so that every way a fetch can fail passes through jwksFetch: at most
// MAX_JWKS_BYTES (a huge JWKS cannot fill our memory), a 200, and JSON shaped as a JWKS.
async function readJwks(url: string, options: RequestInit): Promise<Buffer> {
  const response = await fetch(url, options);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) throw tooBig(url);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw tooBig(url);
    chunks.push(chunk);
  }
  if (response.status !== 200) throw new Error(`The JWKS at ${url} answered HTTP ${response.status}, not 200`);
  const body = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error(`The JWKS at ${url} is not JSON`);
  }
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k)))
    throw new Error(`The JWKS at ${url} is not a JSON Web Key Set ({"keys": [...]})`);
  return body;
}

function jwksResponse(body: Buffer): Response {
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

/**
 * The fetch of one verifier's JWKS for jose. jose refetches on every token while it has no usable set (its
 * cooldown only follows a successful fetch), so a failed fetch is remembered: for `failureBackoffMs` afterwards,
 * a token that needs the JWKS is refused at once, without a request (and without waiting for a hanging one).
 * jose drops its cached set when it is older than `cacheMaxAgeMs` and refuses every token when the refetch fails;
 * handing it the last good set instead keeps known keys verifying through an outage (`staleIfErrorMs`).
 */
function jwksFetch(): (url: string, options: RequestInit) => Promise<Response> {
  let failedAt = -Infinity;
  let lastGood: { body: Buffer; at: number } | undefined;
  // The last set that was fetched, while it is younger than staleIfErrorMs; else the failure.
  const staleOr = (err: Error): Response => {
    if (lastGood && Date.now() - lastGood.at < JWKS_TIMING.staleIfErrorMs) return jwksResponse(lastGood.body);
    throw err;
  };
  return async (url, options) => {
    const since = Date.now() - failedAt;
    if (since < JWKS_TIMING.failureBackoffMs)
      return staleOr(new Error(`The JWKS at ${url} failed ${Math.round(since / 1000)} s ago; not fetched again yet`));
    try {
      const body = await readJwks(url, options);
      lastGood = { body, at: Date.now() };
      return jwksResponse(body);
    } catch (err) {
      failedAt = Date.now();
      return staleOr(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

/** Why a token was refused, in words for the debug log (never the token). */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} ${err.reason}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no JWKS key matches';
  if (err instanceof errors.JWKSTimeout) return 'JWKS fetch timed out';
  return err instanceof Error ? `${err.name}: ${err.message}` : 'invalid token';
}

/** Verifies tokens for one `jwt` definition; made once per version of the definition (one JWKS cache each). */
export class JwtVerifier {
  readonly #key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly #settings: JwtSettings;

  constructor(settings: JwtSettings, secret: string | undefined) {
    this.#settings = settings;
    if (settings.jwksUrl !== undefined) {
      this.#key = createRemoteJWKSet(new URL(settings.jwksUrl), {
        timeoutDuration: JWKS_TIMING.timeoutMs,
        cooldownDuration: JWKS_TIMING.cooldownMs,
        cacheMaxAge: JWKS_TIMING.cacheMaxAgeMs,
        [customFetch]: jwksFetch(),
      });
    } else if (settings.publicKey !== undefined) this.#key = publicKeyOf(settings.publicKey);
    else this.#key = new TextEncoder().encode(secret ?? '');
  }

  /** Never throws: a bad token, or a JWKS that cannot be fetched, is `{ ok: false, reason }`. */
  async verify(token: string): Promise<AuthResult> {
    const { algorithms, issuer, audience, clockTolerance } = this.#settings;
    try {
      const options = { algorithms, clockTolerance, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
      const key = this.#key;
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      const expiresAt = payload.exp === undefined ? undefined : (payload.exp + clockTolerance) * 1000;
      return { ok: true, claims: Object.freeze({ ...payload }), expiresAt };
    } catch (err) {
      return { ok: false, reason: reasonOf(err) };
    }
  }
}
