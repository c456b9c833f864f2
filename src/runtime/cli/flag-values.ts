// The value types `weft` flags share: each a zod schema from the flag's text to what the
// command uses, whose issue message is the reason printed after the flag's name.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDurationMs } from '../../api/duration.ts';
import { parseHostPort } from '../../base/host-port.ts';
import { isValidTrustDomain } from '../../ca/spiffe.ts';
import { parseLabelSelector, type LabelSelector } from '../../k8s/label-selector.ts';
import { errorMessage } from '../../base/errors.ts';
import { parseEgress, type EgressSpec } from '../../api/egress.ts';

export const text = z.string().min(1, 'must not be empty');

/** `true` or `false` (a switch given alone arrives as `true`). */
export const switchValue = z.string().transform((v, ctx) => {
  if (v === 'true' || v === 'false') return v === 'true';
  ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
  return z.NEVER;
});

/** A Go-style duration (500ms, 15s, 1h30m) in milliseconds, optionally with a minimum. */
export function duration(min?: { ms: number; text: string; example?: string }): z.ZodType<number, string> {
  return z.string().transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === undefined || ms <= 0) ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration such as 500ms, 15s or 5m` });
    else if (min !== undefined && ms < min.ms) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration of at least ${min.text}${min.example ? ` (e.g. ${min.example})` : ''}` });
    } else return ms;
    return z.NEVER;
  });
}

export function port(min: number): z.ZodType<number, string> {
  return z
    .string()
    .regex(/^\d+$/, 'must be a number')
    .transform(Number)
    .refine((n) => n >= min && n <= 65535, `must be in ${min}-65535`);
}

function hostPort(allowPortZero: boolean): z.ZodType<string, string> {
  return z.string().superRefine((v, ctx) => {
    const hp = parseHostPort(v, { allowPortZero });
    if (!hp.ok) ctx.addIssue({ code: 'custom', message: hp.reason });
  });
}

/** An address a proxy dials: HOST:PORT or [IPv6]:PORT, port 1-65535. */
export const dialAddress = hostPort(false);
/** An address a server listens on: port 0 lets the kernel pick. */
export const listenAddress = hostPort(true);
/** A listen address, or `off`. */
export const listenAddressOrOff = z.union([z.literal('off'), listenAddress]);

/** RFC 1123 label, as Kubernetes requires for namespaces and Service names. */
export const dnsLabel = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, -)');

export const serviceAccountName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes ServiceAccount name');

export const trustDomain = z.string().superRefine((v, ctx) => {
  if (!isValidTrustDomain(v)) ctx.addIssue({ code: 'custom', message: `must be lowercase letters, digits, ".", "-" or "_" (got "${v}")` });
});

export const labelSelector = z.string().transform((v, ctx): LabelSelector => {
  try {
    return parseLabelSelector(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
    return z.NEVER;
  }
});

/** A weft.dev/egress value (`shop/*, ./billing`), docs/scale.md "Egress scope". */
export const egressValue = z.string().transform((v, ctx): EgressSpec => {
  const p = parseEgress(v);
  if (p.ok) return p.spec;
  ctx.addIssue({ code: 'custom', message: p.reason });
  return z.NEVER;
});

/** The same, kept as the text given (for node metadata, which the server parses again). */
export const egressText = z.string().superRefine((v, ctx) => {
  const p = parseEgress(v);
  if (!p.ok) ctx.addIssue({ code: 'custom', message: p.reason });
});

/** A path, made absolute. */
export const absolutePath = text.transform((v) => resolve(v));

/** An existing directory, made absolute. */
export const directory = absolutePath.superRefine((p, ctx) => {
  if (!existsSync(p) || !statSync(p).isDirectory()) ctx.addIssue({ code: 'custom', message: `${p}: not a directory` });
});

/** An existing file, made absolute. */
export const existingFile = text.transform((v, ctx) => {
  if (!existsSync(v)) {
    ctx.addIssue({ code: 'custom', message: `${v}: no such file` });
    return z.NEVER;
  }
  return resolve(v);
});
