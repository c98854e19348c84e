/**
 * The last gate before a trust policy is written: the shared linter and the expect-deny probes (another
 * branch, another project, a look-alike group, a tag) run on the exact policy init is about to write.
 */
import type { Finding } from '../core/lint.js';
import { CliError } from '../errors.js';
import type { ExpectDenyCheck } from '../verify/expect-deny.js';

/** Throws when a critical finding or an allowed probe shows the policy would let someone else in. */
export function checkSafety(lint: Finding[], expectDeny: ExpectDenyCheck[]): void {
  const critical = lint.filter((f) => f.severity === 'critical');
  const leaks = expectDeny.filter((c) => c.allowed);
  if (!critical.length && !leaks.length) return;
  // The builder is secure by construction; reaching this is a bug, and writing the policy would be unsafe.
  throw new CliError(
    'UNSAFE_TRUST_POLICY',
    'Refusing to write a trust policy that another project or ref could assume.',
    {
      hint: [
        ...critical.map((f) => `${f.ruleId} ${f.title}: ${f.why}`),
        ...leaks.map((c) => `would allow ${c.label} (sub ${c.claims.sub})`),
      ].join('; '),
    },
  );
}
