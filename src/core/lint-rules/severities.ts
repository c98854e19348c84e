/**
 * Severity scale, strongest first. `functional` means "this does not work" (the role can never be
 * assumed, or a condition is dead) rather than "this is unsafe"; it ranks between high and medium
 * so a `--fail-on high` gate ignores it and `--fail-on medium` includes it. Apart from the rule table
 * (rules.ts) so that `audit --help` lists them without loading every rule's text.
 */
export const SEVERITIES = ['critical', 'high', 'functional', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];
