/**
 * The consent gate of `init`: a plan that overwrites drift, widens access or removes what the tool did
 * not create is applied only with its flag (non-interactive) or a separate "yes" (interactive, default
 * No). Runs after planning and before the first mutating call.
 */
import { CONSENT_FLAGS, type Consent, type ConsentItem, type Plan } from '../core/types.js';
import { AbortError, ConsentRequiredError } from '../errors.js';
import type { Logger } from '../io/logger.js';
import type { Prompter } from '../prompts/prompter.js';
import type { InitOptions } from './options.js';

const CONSENT_OPTION = {
  'overwrite-drift': 'overwriteDrift',
  'allow-widening': 'allowWidening',
  'detach-unowned': 'detachUnowned',
  'change-sub-claim': 'subClaimGiven',
} as const satisfies Record<Consent, keyof InitOptions>;

const QUESTION: Record<Consent, string> = {
  'overwrite-drift': 'Overwrite the changes made outside gitlab-aws-oidc listed above?',
  'allow-widening': 'Apply the changes above that widen access?',
  'detach-unowned': 'Remove what gitlab-aws-oidc did not attach or set, listed above?',
  'change-sub-claim': 'Change the sub claim of every ID token of the project, listed above?',
};

type ConsentFlags = Pick<InitOptions, (typeof CONSENT_OPTION)[Consent]>;

/** The plan's consent items whose flag was not given, in plan order. */
export function missingConsents(plan: Pick<Plan, 'consents'>, given: ConsentFlags): ConsentItem[] {
  return plan.consents.filter((item) => !given[CONSENT_OPTION[item.consent]]);
}

/**
 * Refuses (non-interactive) or asks once per consent kind (interactive). Resolves when every needed
 * consent is given; a "no" is an AbortError with nothing changed.
 */
export async function gateConsents(
  plan: Pick<Plan, 'consents'>,
  options: ConsentFlags,
  ask: (() => Promise<Prompter>) | undefined,
  logger?: Logger,
): Promise<void> {
  const missing = missingConsents(plan, options);
  if (missing.length === 0) return;
  if (!ask) {
    throw new ConsentRequiredError(
      missing.map((item) => ({ ...item, flag: item.flag ?? CONSENT_FLAGS[item.consent] })),
    );
  }
  const prompter = await ask();
  for (const consent of [...new Set(missing.map((item) => item.consent))]) {
    const items = missing.filter((i) => i.consent === consent);
    if (logger) for (const item of items) logger.info(logger.palette.danger(`  ${item.message}`));
    const flag = items[0]?.flag ?? CONSENT_FLAGS[consent];
    const ok = await prompter.confirm(CONSENT_FLAGS[consent], {
      message: `${QUESTION[consent]} (${flag})`,
      default: false,
    });
    if (!ok) throw new AbortError(`Aborted: nothing was changed (no ${flag}).`);
  }
}
