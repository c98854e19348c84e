/**
 * Validates a parsed CloudFormation template (long-form intrinsics) against the CloudFormation resource
 * database of `@aws-cdk/aws-service-spec`: every resource type exists, every property name is one the
 * type has, required properties are present, and each value has the property's type (string, integer,
 * boolean, JSON, list, tag, nested property type). An intrinsic stands for any scalar or list. Also checks
 * the references: `Ref`/`Fn::GetAtt` targets and attributes, `Condition` names, `DeletionPolicy` values.
 * Loading the database takes ~1 s: load it once per test file (`loadSpec` in beforeAll).
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, ResourceProperties, SpecDatabase } from '@aws-cdk/service-spec-types';

type Json = Record<string, unknown>;

export const loadSpec = (): Promise<SpecDatabase> => loadAwsServiceSpec();

const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::Region',
  'AWS::URLSuffix',
  'AWS::StackName',
]);
const POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);

function intrinsicName(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')) ? keys[0] : undefined;
}

export function validateTemplate(db: SpecDatabase, template: Json): string[] {
  const errors: string[] = [];
  const resources = (template.Resources ?? {}) as Record<string, Json>;
  const parameters = (template.Parameters ?? {}) as Record<string, Json>;
  const conditions = (template.Conditions ?? {}) as Json;
  const typeOf = new Map<string, ReturnType<typeof lookupResource>>();

  function lookupResource(type: string) {
    return db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
  }

  function checkValue(value: unknown, type: PropertyType, at: string): string[] {
    const fn = intrinsicName(value);
    if (fn) {
      checkIntrinsic(value as Json, at);
      return [];
    }
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`];
        if (type.type === 'string' && type.allowedValues && !type.allowedValues.includes(value))
          return [`${at}: ${value} is not one of ${type.allowedValues.join(', ')}`];
        return [];
      case 'integer':
        return Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`];
      case 'number':
        return typeof value === 'number' ? [] : [`${at}: expected a number`];
      case 'boolean':
        return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`];
      case 'json':
        return value && typeof value === 'object' ? [] : [`${at}: expected a JSON object`];
      case 'null':
        return value === null ? [] : [`${at}: expected null`];
      case 'tag': {
        const tag = value as Json;
        const keys = tag && typeof tag === 'object' ? Object.keys(tag).sort().join(',') : '';
        if (keys !== 'Key,Value') return [`${at}: a tag is { Key, Value }, got ${JSON.stringify(value)}`];
        return [
          ...checkValue(tag.Key, { type: 'string' }, `${at}.Key`),
          ...checkValue(tag.Value, { type: 'string' }, `${at}.Value`),
        ];
      }
      case 'array':
        if (!Array.isArray(value)) return [`${at}: expected a list`];
        return value.flatMap((item, i) => checkValue(item, type.element, `${at}[${i}]`));
      case 'map':
        if (!value || typeof value !== 'object') return [`${at}: expected a map`];
        return Object.entries(value).flatMap(([k, v]) => checkValue(v, type.element, `${at}.${k}`));
      case 'ref': {
        const definition = db.get('typeDefinition', type.reference);
        return checkProperties(value, definition.properties, at);
      }
      case 'union': {
        const results = type.types.map((t) => checkValue(value, t, at));
        return results.some((r) => r.length === 0) ? [] : results.flat();
      }
      default:
        return [`${at}: unknown type ${JSON.stringify(type)}`];
    }
  }

  function checkProperties(value: unknown, spec: ResourceProperties, at: string): string[] {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`];
    const found: string[] = [];
    for (const [name, property] of Object.entries(spec)) {
      if (property.required && !(name in value)) found.push(`${at}: required property ${name} is missing`);
    }
    for (const [name, v] of Object.entries(value)) {
      const property = spec[name];
      if (!property) found.push(`${at}: ${name} is not a property (${Object.keys(spec).join(', ')})`);
      else found.push(...checkValue(v, property.type, `${at}.${name}`));
    }
    return found;
  }

  function checkIntrinsic(value: Json, at: string): void {
    const fn = intrinsicName(value)!;
    const arg = value[fn];
    if (fn === 'Ref') {
      const name = arg as string;
      if (!(name in parameters) && !(name in resources) && !PSEUDO.has(name))
        errors.push(`${at}: Ref to undefined ${name}`);
    } else if (fn === 'Fn::GetAtt') {
      const [id, attribute] = arg as string[];
      const type = typeOf.get(id!);
      if (!type) errors.push(`${at}: Fn::GetAtt of undefined resource ${id}`);
      else if (!(attribute! in type.attributes)) errors.push(`${at}: ${id} has no attribute ${attribute}`);
    } else if (fn === 'Fn::Sub') {
      for (const [, bang, name] of (arg as string).matchAll(/\$\{(!?)([^}]*)\}/g)) {
        if (!bang && !(name! in parameters) && !(name! in resources) && !PSEUDO.has(name!))
          errors.push(`${at}: Fn::Sub names undefined \${${name}}`);
      }
    } else if (fn === 'Fn::If') {
      const [condition, ...branches] = arg as unknown[];
      if (!((condition as string) in conditions))
        errors.push(`${at}: Fn::If names undefined condition ${condition}`);
      branches.forEach((b, i) => {
        if (intrinsicName(b)) checkIntrinsic(b as Json, `${at}[${i + 1}]`);
      });
    } else if (fn === 'Fn::Equals') {
      (arg as unknown[]).forEach((b, i) => {
        if (intrinsicName(b)) checkIntrinsic(b as Json, `${at}[${i}]`);
      });
    } else errors.push(`${at}: ${fn} is not checked by this validator`);
  }

  for (const [id, resource] of Object.entries(resources)) {
    const type = lookupResource(resource.Type as string);
    if (!type) errors.push(`${id}: unknown resource type ${resource.Type}`);
    else typeOf.set(id, type);
  }
  for (const [id, resource] of Object.entries(resources)) {
    const type = typeOf.get(id);
    if (!type) continue;
    for (const key of Object.keys(resource)) {
      if (
        ![
          'Type',
          'Properties',
          'Condition',
          'DeletionPolicy',
          'UpdateReplacePolicy',
          'DependsOn',
          'Metadata',
        ].includes(key)
      )
        errors.push(`${id}: ${key} is not a resource attribute`);
    }
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (resource[policy] !== undefined && !POLICIES.has(resource[policy] as string))
        errors.push(`${id}.${policy}: ${resource[policy]} is not a policy`);
    }
    const condition = resource.Condition as string | undefined;
    if (condition !== undefined && !(condition in conditions))
      errors.push(`${id}: undefined condition ${condition}`);
    errors.push(...checkProperties(resource.Properties ?? {}, type.properties, `${id}.Properties`));
  }
  for (const [name, expr] of Object.entries(conditions)) {
    if (intrinsicName(expr)) checkIntrinsic(expr as Json, `Conditions.${name}`);
  }
  for (const [name, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) {
    if (intrinsicName(output.Value)) checkIntrinsic(output.Value as Json, `Outputs.${name}`);
    else if (typeof output.Value !== 'string') errors.push(`Outputs.${name}: Value must be a string`);
  }
  return errors;
}
