/** A mistake in the command line: exit code 2 with usage. */
export class UsageError extends Error {}
