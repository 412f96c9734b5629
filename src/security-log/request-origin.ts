/** Where a request came from: recorded on sessions and security log entries. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** The longest user agent kept; browsers send about 150 characters, anything longer is cut. */
export const USER_AGENT_MAX = 512;

export function requestOrigin(ip: string | undefined, userAgent: string | undefined): RequestOrigin {
  return { ip: ip ?? null, userAgent: userAgent ? userAgent.slice(0, USER_AGENT_MAX) : null };
}
