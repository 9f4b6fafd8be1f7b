import { z } from 'zod';

export const RegisterBody = z
  .strictObject({
    email: z.email('must be a valid email address').max(255),
    username: z
      .string()
      .min(3, 'must be at least 3 characters')
      .max(50, 'must be at most 50 characters')
      .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "." and "-"'),
    // The upper bound keeps hashing cost bounded; passphrases fit easily.
    password: z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters'),
  })
  .meta({ id: 'RegisterRequest' });

/** JSON, or the OAuth2 password form (`grant_type=password&username=...&password=...`). */
export const LoginBody = z
  .strictObject({
    username: z.string().min(1).max(255).meta({ description: 'Username or email' }),
    password: z.string().min(1).max(1024),
    grant_type: z.literal('password').optional(),
    scope: z.string().max(1000).optional(),
    client_id: z.string().max(255).optional(),
    client_secret: z.string().max(255).optional(),
  })
  .meta({ id: 'LoginRequest' });

export const RefreshBody = z.strictObject({ refresh_token: z.string().min(1).max(512) }).meta({ id: 'RefreshRequest' });

export const LogoutBody = z.strictObject({ refresh_token: z.string().min(1).max(512).optional() });

export const UserResponse = z
  .object({
    id: z.number().int(),
    email: z.string(),
    username: z.string(),
    is_active: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'User' });

export const TokenResponse = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until the access token expires' }),
    user: UserResponse,
  })
  .meta({ id: 'TokenPair' });

export type UserResponse = z.infer<typeof UserResponse>;
export type TokenResponse = z.infer<typeof TokenResponse>;

export function presentUser(user: { id: number; email: string; username: string; isActive: boolean; createdAt: Date; updatedAt: Date }): UserResponse {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    is_active: user.isActive,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
