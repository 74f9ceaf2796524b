export type Role = 'user' | 'admin';

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  userId: string;
  email: string;
  roles: Role[];
  /** how the token was signed: RS256 (current) or HS256 (legacy shared secret) */
  alg: 'RS256' | 'HS256';
  kid?: string;
  expiresAt: number;
}
