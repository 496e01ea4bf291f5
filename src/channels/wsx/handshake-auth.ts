// Credentials a plain channel's client sends with its handshake (it has no session message), and what a JWT
// tells about a client for the rest of its connection.
import type { IncomingMessage } from 'node:http';
import { authorizationValue, type AuthResult, type SecurityDefinitions } from '../../security/index.js';

/** What a verified JWT says about a connection: its claims, and when the connection must end (ms), if ever. */
export interface ClientAuth {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: number | undefined;
}

/** The `ClientAuth` of a successful JWT check; undefined for the other kinds of definition. */
export function clientAuthOf(result: AuthResult): ClientAuth | undefined {
  return result.ok && result.claims ? { claims: result.claims, expiresAt: result.expiresAt } : undefined;
}

/** The handshake refused: the header that tells the client which scheme to use. */
export interface HandshakeRefusal {
  readonly challenge: string;
  readonly reason: string;
}

const kAuth = Symbol('clientAuth');
type AuthHolder = IncomingMessage & { [kAuth]?: ClientAuth };

function basicCredentials(req: IncomingMessage): { username: string; secret: string } | undefined {
  const encoded = authorizationValue(req.headers.authorization, 'basic');
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** `Authorization: Bearer <jwt>`, else `?access_token=<jwt>` (browsers cannot set headers on a WebSocket). */
function bearerToken(req: IncomingMessage): string | undefined {
  const token = authorizationValue(req.headers.authorization, 'bearer');
  if (token !== undefined) return token || undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('access_token') ?? undefined;
}

/**
 * Checks a plain channel's handshake against its security definition: Basic credentials for basic_auth and
 * apikey (as before), a bearer token for jwt. A JWT's claims are kept on the request for the connection.
 */
export async function checkHandshake(
  req: IncomingMessage,
  security: SecurityDefinitions,
  name: string,
): Promise<HandshakeRefusal | undefined> {
  const def = await security.repo.get(name);
  if (def?.type === 'jwt') {
    const token = bearerToken(req);
    const result = token ? await security.authenticate(name, { username: undefined, secret: token }) : undefined;
    if (result?.ok) {
      const auth = clientAuthOf(result);
      if (auth) (req as AuthHolder)[kAuth] = auth;
      return undefined;
    }
    return { challenge: 'Bearer realm="switchboard"', reason: result ? result.reason : 'no bearer token' };
  }
  const credentials = basicCredentials(req);
  const ok = credentials ? await security.verify(name, credentials) : false;
  return ok ? undefined : { challenge: 'Basic realm="switchboard"', reason: 'wrong or missing Basic credentials' };
}

/** The claims `checkHandshake` kept for this request's connection. */
export function handshakeAuth(req: IncomingMessage): ClientAuth | undefined {
  return (req as AuthHolder)[kAuth];
}
