/**
 * What IAM refuses to store in a role trust policy (`MalformedPolicyDocument`), so the evaluator never
 * answers "allowed" for a document IAM would reject. Pure. Only documented rules:
 * - reference_policies_grammar.html: `Version` is "2008-10-17" or "2012-10-17" (optional); a statement
 *   has one `Effect`, one of `Action`/`NotAction`, at most one of `Principal`/`NotPrincipal`, and its
 *   condition operators are the listed ones (see iam-conditions.ts) with scalar values or lists of them.
 * - reference_policies_elements_effect.html: "Valid values for Effect are Allow and Deny. The Effect
 *   value is case sensitive."
 * - reference_policies_elements_principal.html / id_roles_terms-and-concepts.html: a role trust policy
 *   is a resource-based policy: it must name a principal, and it has no `Resource` element
 *   (IAM: "Has prohibited field Resource").
 */
import { parseConditionOperator } from './iam-conditions.js';

export interface Malformation {
  /** The statement's index, when the problem is inside one. */
  statement?: number | undefined;
  /** The element at fault: `Effect`, `Condition`, `Version`, … */
  element: string;
  message: string;
  /** For a problem inside `Condition`: the operator (and key) as written, to locate it. */
  operator?: string | undefined;
  conditionKey?: string | undefined;
  /** The operator is not one IAM knows (the linter reports these as GAO029). */
  unknownOperator?: true | undefined;
}

const VERSIONS = new Set(['2008-10-17', '2012-10-17']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Federated', 'Service', 'CanonicalUser']);

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function checkStatement(s: unknown, index: number): Malformation[] {
  const out: Malformation[] = [];
  const at = (element: string, message: string, extra: Partial<Malformation> = {}) =>
    out.push({ statement: index, element, message, ...extra });
  const where = `statement #${index}`;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) {
    at('Statement', `${where} is not an object`);
    return out;
  }
  const st = s as Record<string, unknown>;
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') {
    at(
      'Effect',
      `${where}: Effect ${JSON.stringify(st.Effect ?? null)} is not "Allow" or "Deny" (the value is case sensitive)`,
    );
  }
  if (st.Action !== undefined && st.NotAction !== undefined)
    at('Action', `${where} has both Action and NotAction`);
  if (st.Action === undefined && st.NotAction === undefined) at('Action', `${where} has no Action`);
  if (st.Principal !== undefined && st.NotPrincipal !== undefined)
    at('NotPrincipal', `${where} has both Principal and NotPrincipal`);
  if (st.Principal === undefined && st.NotPrincipal === undefined)
    at('Principal', `${where} has no Principal (a trust policy must name one)`);
  // <principal_block> = ("Principal" | "NotPrincipal") : ("*" | <principal_map>), whose keys are
  // "AWS" | "Federated" | "Service" | "CanonicalUser" (as written: the grammar's names).
  for (const element of ['Principal', 'NotPrincipal']) {
    const value = st[element];
    if (value === undefined || value === '*') continue;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      at(
        element,
        `${where}: ${element} ${JSON.stringify(value)} is neither "*" nor a map of principal types`,
      );
      continue;
    }
    for (const type of Object.keys(value)) {
      if (!PRINCIPAL_TYPES.has(type)) {
        at(element, `${where}: "${type}" is not a principal type (AWS, Federated, Service, CanonicalUser)`);
      }
    }
  }
  for (const element of ['Resource', 'NotResource']) {
    if (st[element] !== undefined) at(element, `${where} has a ${element} element (a trust policy has none)`);
  }
  const condition = st.Condition;
  if (condition === undefined) return out;
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    at('Condition', `${where}: Condition is not an object`);
    return out;
  }
  for (const [operator, keys] of Object.entries(condition)) {
    if (!parseConditionOperator(operator).known) {
      at(
        'Condition',
        `${where}: "${operator}" is not an IAM condition operator (operator names are case sensitive)`,
        { operator, unknownOperator: true },
      );
    }
    if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) {
      at('Condition', `${where}: "${operator}" does not map condition keys to values`, { operator });
      continue;
    }
    for (const [key, value] of Object.entries(keys)) {
      const values = Array.isArray(value) ? value : [value];
      if (!values.every(isScalar)) {
        at(
          'Condition',
          `${where}: the value of "${operator}" "${key}" is not a string, number, boolean or a list of them`,
          { operator, conditionKey: key },
        );
      }
    }
  }
  return out;
}

/** Every reason IAM would refuse this document as a role trust policy; empty when it is well formed. */
export function findMalformations(policy: unknown): Malformation[] {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
    return [{ element: 'Policy', message: 'the policy is not a JSON object' }];
  }
  const doc = policy as Record<string, unknown>;
  const out: Malformation[] = [];
  if (doc.Version !== undefined && !VERSIONS.has(doc.Version as string)) {
    out.push({
      element: 'Version',
      message: `Version ${JSON.stringify(doc.Version)} is not "2012-10-17" or "2008-10-17"`,
    });
  }
  const statements = doc.Statement;
  if (statements === undefined) out.push({ element: 'Statement', message: 'the policy has no Statement' });
  else {
    const list = Array.isArray(statements) ? statements : [statements];
    list.forEach((s, i) => {
      out.push(...checkStatement(s, i));
    });
  }
  return out;
}
