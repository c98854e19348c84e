/**
 * The fleet selection flags as commander options (`--group`, `--include`, `--exclude`, `--config`):
 * imported when the CLI registers its commands, so it imports commander types only. Parsed by
 * selection-options.ts `parseSelectionFlags` when a command runs.
 */
import type { Command } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds the selection flags (not `--project`: every command defines its own). */
export function addSelectionOptions(command: Command): Command {
  return command
    .option('--group <path>', 'every project of this GitLab group and its subgroups (archived ones skipped)')
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
    );
}
