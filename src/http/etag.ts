import type { AppContext } from './route';

/** An event's ETag is its version number: strong, and cheap to compare under the row lock. */
export function setVersionTag(ctx: AppContext, version: number): void {
  ctx.set('ETag', `"${version}"`);
}

/**
 * The versions an If-Match header accepts: undefined when there is no header or it is `*`
 * (no condition), else the listed strong tags. Weak or malformed tags never match (RFC 9110).
 */
export function ifMatchVersions(ctx: AppContext): number[] | undefined {
  const header = ctx.get('If-Match').trim();
  if (!header) return undefined;
  const tags = header.split(',').map((tag) => tag.trim());
  if (tags.includes('*')) return undefined;
  return tags.flatMap((tag) => {
    const match = /^"(\d{1,10})"$/.exec(tag);
    return match ? [Number(match[1])] : [];
  });
}

/**
 * Whether the client's If-None-Match names this tag, by weak comparison (RFC 9110 13.1.2): it has
 * the representation already. As the origin, the server answers the condition whatever the
 * request's Cache-Control says to caches (fetch adds `no-cache` to every conditional request).
 */
export function clientHasTag(ctx: AppContext, tag: string): boolean {
  const header = ctx.get('If-None-Match').trim();
  if (!header) return false;
  const opaque = (entityTag: string) => entityTag.trim().replace(/^W\//, '');
  return header === '*' || header.split(',').some((listed) => opaque(listed) === opaque(tag));
}

export const IF_MATCH_HEADER = { 'If-Match': 'Only act if the event is still at this version (its ETag); 412 otherwise' };
export const ETAG_HEADER = { ETag: 'The event version, for If-Match' };
