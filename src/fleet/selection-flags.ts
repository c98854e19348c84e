/**
 * The fleet selection flags as commander options (`--group`, `--include`, `--exclude`, `--config`):
 * imported when the CLI registers its commands, so it imports commander only (never zod). Parsed by
 * selection-options.ts `parseSelectionFlags` when a command runs.
 */
import { type Command, InvalidArgumentError } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A flag that names one thing: a second one is refused (exit 2), never silently the one that wins. */
const once =
  (flag: string, instead: string) =>
  (value: string, previous: string | undefined): string => {
    if (previous !== undefined)
      throw new InvalidArgumentError(`${flag} is given twice ("${previous}", "${value}"); ${instead}`);
    return value;
  };

/** Adds the selection flags (not `--project`: every command defines its own). */
export function addSelectionOptions(command: Command): Command {
  return command
    .option(
      '--group <path>',
      'every project of this GitLab group and its subgroups (archived ones skipped)',
      once('--group', 'give the parent group, or list the projects in a --config file'),
    )
    .option(
      '--include <glob>',
      'with --group/--config: only projects whose path matches (* = one segment, ** = any depth); repeatable',
      collect,
    )
    .option(
      '--exclude <glob>',
      'with --group/--config: never projects whose path matches; repeatable',
      collect,
    )
    .option(
      '--config <file>',
      'fleet configuration file (gitlab-aws-oidc.yml): defaults and per-project overrides',
      once('--config', 'give one file'),
    );
}
