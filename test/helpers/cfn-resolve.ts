/**
 * A small CloudFormation intrinsic evaluator for tests: resolves a parsed template (long-form
 * intrinsics, as `parseCloudFormation` returns them) the way CloudFormation would for one account,
 * partition and set of parameter values. Covers what the exporter writes (Ref, Fn::Sub, Fn::GetAtt,
 * Fn::If, Fn::Equals, Conditions, Condition on resources); anything else throws, so a template that
 * uses more is noticed rather than half-resolved.
 */

export interface ResolveEnvironment {
  account: string;
  partition: string;
  region?: string;
  /** Parameter values; a parameter without one takes its Default. */
  parameters?: Record<string, string>;
  /** What `Ref` / `Fn::GetAtt <id>.Arn` of each created resource returns (physical ARNs). */
  resourceArns: Record<string, string>;
}

export interface ResolvedTemplate {
  parameters: Record<string, string>;
  conditions: Record<string, boolean>;
  /** Only the resources CloudFormation would create (their Condition true), properties resolved. */
  resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  outputs: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const INTRINSICS = new Set(['Ref', 'Fn::Sub', 'Fn::GetAtt', 'Fn::If', 'Fn::Equals']);

export function resolveTemplate(template: Json, env: ResolveEnvironment): ResolvedTemplate {
  const parameters: Record<string, string> = {};
  for (const [name, spec] of Object.entries((template.Parameters ?? {}) as Record<string, Json>)) {
    const value = env.parameters?.[name] ?? spec.Default;
    if (typeof value !== 'string') throw new Error(`parameter ${name} has no value`);
    const allowed = spec.AllowedValues as string[] | undefined;
    if (allowed && !allowed.includes(value)) throw new Error(`parameter ${name}: ${value} not allowed`);
    parameters[name] = value;
  }
  const pseudo: Record<string, string> = {
    'AWS::AccountId': env.account,
    'AWS::Partition': env.partition,
    'AWS::Region': env.region ?? 'us-east-1',
    'AWS::URLSuffix': env.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
  };
  const conditions: Record<string, boolean> = {};
  const declared = (template.Resources ?? {}) as Record<string, Json>;
  const lookup = (name: string): string => {
    if (name in parameters) return parameters[name]!;
    if (name in pseudo) return pseudo[name]!;
    const resource = declared[name];
    if (!resource) throw new Error(`Ref to unknown ${name}`);
    const condition = resource.Condition as string | undefined;
    // CloudFormation rejects a reference to a resource its condition leaves out.
    if (condition !== undefined && !conditions[condition]) throw new Error(`${name} is not created`);
    const arn = env.resourceArns[name];
    if (arn === undefined) throw new Error(`no ARN given for ${name}`);
    return arn;
  };
  const evaluate = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(evaluate);
    if (!value || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    const [fn] = keys;
    if (keys.length === 1 && fn !== undefined && (fn.startsWith('Fn::') || fn === 'Ref')) {
      if (!INTRINSICS.has(fn)) throw new Error(`unsupported intrinsic ${fn}`);
      const arg = (value as Json)[fn];
      switch (fn) {
        case 'Ref':
          return lookup(arg as string);
        case 'Fn::Sub':
          return (arg as string).replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) =>
            bang ? `\${${name}}` : lookup(name),
          );
        case 'Fn::GetAtt': {
          const [resource, attribute] = arg as string[];
          if (attribute !== 'Arn') throw new Error(`unsupported attribute ${attribute}`);
          return lookup(resource!);
        }
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          if (!(name in conditions)) throw new Error(`unknown condition ${name}`);
          return evaluate(conditions[name] ? whenTrue : whenFalse);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map(evaluate);
          return a === b;
        }
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v)]));
  };
  for (const [name, expr] of Object.entries((template.Conditions ?? {}) as Json)) {
    const result = evaluate(expr);
    if (typeof result !== 'boolean') throw new Error(`condition ${name} is not boolean`);
    conditions[name] = result;
  }
  const resources: ResolvedTemplate['resources'] = {};
  for (const [id, resource] of Object.entries(declared)) {
    const condition = resource.Condition as string | undefined;
    if (condition !== undefined && !conditions[condition]) continue;
    resources[id] = {
      Type: resource.Type as string,
      Properties: evaluate(resource.Properties ?? {}) as Record<string, unknown>,
    };
  }
  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) {
    outputs[name] = evaluate(output.Value);
  }
  return { parameters, conditions, resources, outputs };
}
