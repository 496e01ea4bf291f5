/**
 * What follows `<scheme> ` in an `Authorization` header, trimmed; undefined for another scheme or no header. The
 * scheme's name is case-insensitive (RFC 9110 §11.1): `bearer`, `Bearer` and `BEARER` are one scheme.
 */
export function authorizationValue(header: string | undefined, scheme: 'basic' | 'bearer'): string | undefined {
  if (!header || header.length <= scheme.length || header[scheme.length] !== ' ') return undefined;
  return header.slice(0, scheme.length).toLowerCase() === scheme ? header.slice(scheme.length + 1).trim() : undefined;
}
