// Shared by the mesh.weft.dev kinds.
import { z } from 'zod';
import { dns1123Subdomain, metadata } from './common.ts';

export const WEFT_API_VERSION = 'mesh.weft.dev/v1alpha1';
export const weftApiVersion = z.literal(WEFT_API_VERSION);
export const weftMetadata = metadata(dns1123Subdomain);

/** Adds `message` at `path` when `bad` is true; keeps cross-field rules readable. */
export function check(ctx: z.RefinementCtx, bad: boolean, path: PropertyKey[], message: string): void {
  if (bad) ctx.addIssue({ code: 'custom', path, message });
}
